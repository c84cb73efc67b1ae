"""The window's shell part."""
