"""The window's library part."""
