"""Widgets and helpers every screen shares: plain-text labels, the help bar, style, windows."""
