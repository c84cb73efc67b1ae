"""Searching the Hub for GGUF model repositories."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from desktop.gguf.fit import Fit, fit_verdict, memory_needed
from desktop.hub.api import hub_api
from desktop.hub.describe import describe_hub_error
from desktop.hub.limits import answer_limits
from desktop.safe_text import printable

SortKey = Literal["downloads", "likes", "trending", "updated", "created"]
SORT_KEYS: tuple[SortKey, ...] = ("downloads", "likes", "trending", "updated", "created")

_HUB_SORT = {
    "downloads": "downloads",
    "likes": "likes",
    "trending": "trending_score",
    "updated": "last_modified",
    "created": "created_at",
}


# A Q4_K_M build is about 4.85 bits a weight: the usual first choice, so "fits" is judged on it.
TYPICAL_BITS_PER_WEIGHT = 4.85


@dataclass(frozen=True)
class HubModel:
    repo_id: str
    downloads: int
    likes: int
    last_modified: datetime | None
    gated: bool | str  # False, "auto" or "manual", as the Hub says
    parameters: int | None = None  # from the Hub's GGUF metadata, when it has it
    note: str | None = None  # why a starter model is recommended
    # A starter's build: its quant and generation tokens/s predicted on this computer
    starter_quant: str | None = None
    predicted_tg_tps: float | None = None

    def typical_size_bytes(self) -> int | None:
        return int(self.parameters * TYPICAL_BITS_PER_WEIGHT / 8) if self.parameters else None

    def fit(self, available_bytes: int) -> Fit | None:
        size = self.typical_size_bytes()
        return fit_verdict(memory_needed(size, None), available_bytes) if size else None


@dataclass(frozen=True)
class SearchFilters:
    """Narrowing that the Hub's search cannot do itself, applied to each page of results."""

    min_parameters: int | None = None
    max_parameters: int | None = None
    fits_within_bytes: int | None = None  # keep models whose typical build fits this much memory

    def keep(self, model: HubModel) -> bool:
        if self.min_parameters is None and self.max_parameters is None and self.fits_within_bytes is None:
            return True
        if model.parameters is None:
            return False  # unknown size: it can't be shown to match
        if self.min_parameters is not None and model.parameters < self.min_parameters:
            return False
        if self.max_parameters is not None and model.parameters >= self.max_parameters:
            return False
        return self.fits_within_bytes is None or model.fit(self.fits_within_bytes) == "fits"


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
        with answer_limits():  # the deadline covers every page and retry
            found = hub_api().list_models(
                filter=["gguf", *filters],
                author=author or None,
                search=query.strip() or None,
                sort=_HUB_SORT[sort],  # type: ignore[arg-type]
                limit=limit,
                expand=["downloads", "likes", "lastModified", "gated", "gguf"],
            )
            return [
                HubModel(
                    repo_id=printable(m.id),  # shown as it is by every front end
                    downloads=_int(m.downloads) or 0,
                    likes=_int(m.likes) or 0,
                    last_modified=m.last_modified,
                    gated=m.gated or False,
                    parameters=_int((m.gguf or {}).get("total")),
                )
                for m in found
            ]
    except Exception as exc:
        raise describe_hub_error(exc) from exc


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
