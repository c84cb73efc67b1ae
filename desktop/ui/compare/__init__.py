"""The window's compare part."""
