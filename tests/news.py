"""What an application service told its front end, in order: ``news.note("kind")`` is a
callback that records ("kind", its first argument)."""

from __future__ import annotations

from collections.abc import Callable


class News(list[tuple[str, object]]):
    def note(self, kind: str) -> Callable[..., None]:
        return lambda *args: self.append((kind, args[0] if args else None))

    def kinds(self, *leaving_out: str) -> list[str]:
        return [kind for kind, _ in self if kind not in leaving_out]
