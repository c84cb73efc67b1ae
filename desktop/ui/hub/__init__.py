"""The window's hub part."""
