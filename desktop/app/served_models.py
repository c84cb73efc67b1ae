"""Which library model an API request means: by its library id, or by its name where only one
model has it. A request never names a file: the models a server offers are the library's (and
those its operator preloaded by path), nothing else on the disk."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

from desktop.library.scan import LocalModel

RESCAN_AFTER_S = 2.0  # a name not found rescans the library, at most this often
OLLAMA_TAG = ":latest"  # Ollama names models name:tag; its clients add the default tag


class UnknownModel(LookupError):
    """No library model has that id or name (the message says what to use instead)."""


class ModelDirectory:
    """The models a server offers, rescanned when a name is not found (a model just pulled)."""

    def __init__(self, scan: Callable[[], list[LocalModel]], pinned: Sequence[LocalModel] = ()) -> None:
        self._scan = scan
        self._pinned = list(pinned)  # preloaded by the operator, perhaps from outside the library
        self._models: list[LocalModel] | None = None
        self._scanned_at = 0.0
        self._lock = threading.Lock()

    def models(self) -> list[LocalModel]:
        """Each usable model once, in the library's order; the pinned ones first."""
        with self._lock:
            if self._models is None or time.monotonic() - self._scanned_at > RESCAN_AFTER_S:
                self._rescan()
            assert self._models is not None
            return self._models

    def pin(self, model: LocalModel) -> None:
        with self._lock:
            if all(m.id != model.id for m in self._pinned):
                self._pinned.append(model)
            self._models = None

    def _rescan(self) -> None:
        seen = {m.id for m in self._pinned}
        found = [m for m in self._scan() if m.ok and m.id not in seen]
        self._models = [*self._pinned, *found]
        self._scanned_at = time.monotonic()

    def by_path(self, path: str) -> LocalModel | None:
        """The offered model at ``path`` (the window's loaded one, say); None if not offered."""
        return next((m for m in self.models() if str(m.path) == path), None)

    def find(self, name: str) -> LocalModel:
        """The model ``name`` means; UnknownModel when none, or more than one, has that name."""
        wanted = name.strip()
        if wanted.endswith(OLLAMA_TAG):
            wanted = wanted[: -len(OLLAMA_TAG)]
        if not wanted:
            raise UnknownModel("no model named: give an id from /v1/models (or /api/tags)")
        by_id = [m for m in self.models() if m.id == wanted]
        if by_id:
            return by_id[0]
        named = [m for m in self.models() if m.name.lower() == wanted.lower()]
        if len(named) == 1:
            return named[0]
        if len(named) > 1:
            ids = ", ".join(m.id for m in named)
            raise UnknownModel(f"more than one model is named '{wanted}': use one of the ids {ids}")
        raise UnknownModel(f"no model '{wanted}' in Hearth's library: /v1/models (or /api/tags) lists them")
