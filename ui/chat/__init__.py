"""Conversations and chat: the main window, the paged message model and its delegate."""
