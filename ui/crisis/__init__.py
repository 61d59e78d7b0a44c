"""The "Get help now" crisis panel and the data behind it."""
