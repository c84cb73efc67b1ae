"""Item models for the Hub browser: search results and a repository's files."""

from __future__ import annotations

from typing import Any

from desktop.hub.files import HubFile
from desktop.hub.search import HubModel
from desktop.ui.table_model import Column, RecordTableModel
from desktop.units import format_bytes, format_count


def _updated(m: HubModel) -> str:
    return m.last_modified.strftime("%Y-%m-%d") if m.last_modified else "—"


class HubResultsModel(RecordTableModel[HubModel]):
    def __init__(self, parent: Any = None) -> None:
        super().__init__(
            [
                Column(
                    "Model", lambda m: m.repo_id + ("  🔒" if m.gated else ""), lambda m: m.repo_id.lower()
                ),
                Column("Downloads", lambda m: format_count(m.downloads), lambda m: m.downloads, numeric=True),
                Column("Likes", lambda m: format_count(m.likes), lambda m: m.likes, numeric=True),
                Column("Updated", _updated, lambda m: m.last_modified.timestamp() if m.last_modified else 0),
            ],
            parent,
        )


class HubFilesModel(RecordTableModel[HubFile]):
    """The model files of a repository (projectors and other sidecars are not offered)."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(
            [
                Column("File", lambda f: f.filename, tooltip=lambda f: f.filename),
                Column("Quant", lambda f: f.quant or "—"),
                Column(
                    "Size", lambda f: format_bytes(f.size_bytes), lambda f: f.size_bytes or 0, numeric=True
                ),
            ],
            parent,
        )
