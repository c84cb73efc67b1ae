"""Hearth: run open language models offline."""

from importlib import metadata

try:
    __version__ = metadata.version("hearth")
except metadata.PackageNotFoundError:  # running from a bare checkout
    __version__ = "0.0.0+source"
