"""Hearth's look: colour, spacing and type tokens for light and dark, and the theme applied."""
