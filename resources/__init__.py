"""Hearth's bundled files (icons, desktop entry), installed as the package ``desktop.resources``.

Found through the package itself, so the same call works from a checkout, a wheel or a
frozen app.
"""

from __future__ import annotations

from pathlib import Path


def resource_path(*parts: str) -> Path:
    return Path(__file__).resolve().parent.joinpath(*parts)
