"""The welcome window: create a profile or unlock one."""
