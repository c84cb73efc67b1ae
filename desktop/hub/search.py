"""Searching the Hub for GGUF model repositories."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from desktop.hub.api import hub_api
from desktop.hub.errors import describe_hub_error

SortKey = Literal["downloads", "likes", "trending", "updated", "created"]
SORT_KEYS: tuple[SortKey, ...] = ("downloads", "likes", "trending", "updated", "created")

_HUB_SORT = {
    "downloads": "downloads",
    "likes": "likes",
    "trending": "trending_score",
    "updated": "last_modified",
    "created": "created_at",
}


@dataclass(frozen=True)
class HubModel:
    repo_id: str
    downloads: int
    likes: int
    last_modified: datetime | None
    gated: bool | str  # False, "auto" or "manual", as the Hub says


def search_models(
    query: str = "",
    *,
    sort: SortKey = "downloads",
    limit: int = 20,
    filters: tuple[str, ...] = (),
    author: str | None = None,
) -> list[HubModel]:
    """GGUF repositories matching ``query``; an empty query lists all of them.

    ``filters`` are more Hub tag filters, ANDed (``base_model:quantized:<repo>``, say).
    """
    try:
        found = hub_api().list_models(
            filter=["gguf", *filters],
            author=author or None,
            search=query.strip() or None,
            sort=_HUB_SORT[sort],  # type: ignore[arg-type]
            limit=limit,
        )
        return [
            HubModel(
                repo_id=m.id,
                downloads=m.downloads or 0,
                likes=m.likes or 0,
                last_modified=m.last_modified,
                gated=m.gated or False,
            )
            for m in found
        ]
    except Exception as exc:
        raise describe_hub_error(exc) from exc
