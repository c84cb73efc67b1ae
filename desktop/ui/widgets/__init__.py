"""The window's widgets part."""
