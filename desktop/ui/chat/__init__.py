"""The window's chat part."""
