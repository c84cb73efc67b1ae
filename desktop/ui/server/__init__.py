"""The Server page: Hearth's models for other programs, from the window."""
