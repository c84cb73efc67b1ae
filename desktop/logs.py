"""Logging to a rotating file in Hearth's log folder."""

from __future__ import annotations

import logging
import logging.handlers

from desktop.paths import hearth_paths


def setup_logging(level: int = logging.INFO) -> None:
    paths = hearth_paths()
    paths.log_dir.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    if any(getattr(h, "_hearth", False) for h in root.handlers):
        return
    handler = logging.handlers.RotatingFileHandler(
        paths.log_file, maxBytes=2_000_000, backupCount=3, encoding="utf-8"
    )
    handler.setFormatter(logging.Formatter("%(asctime)s %(process)d %(name)s %(levelname)s %(message)s"))
    handler._hearth = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
