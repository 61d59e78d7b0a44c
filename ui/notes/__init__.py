"""Counselor notes: templates, autosave, search."""
