"""Stop strings cut out of a streamed reply, even when one arrives split across tokens."""

from __future__ import annotations


class StopFilter:
    """Holds back text that may be the start of a stop string, and cuts at one."""

    def __init__(self, stops: tuple[str, ...]) -> None:
        self._stops = stops
        self._pending = ""
        self.stopped = False

    def feed(self, text: str) -> str:
        if not self._stops:
            return text
        self._pending += text
        for stop in self._stops:
            at = self._pending.find(stop)
            if at >= 0:
                out, self._pending = self._pending[:at], ""
                self.stopped = True
                return out
        keep = max((len(s) - 1 for s in self._stops), default=0)
        # Emit all but a tail that could still grow into a stop string.
        cut = len(self._pending)
        for n in range(min(keep, len(self._pending)), 0, -1):
            tail = self._pending[-n:]
            if any(s.startswith(tail) for s in self._stops):
                cut = len(self._pending) - n
                break
        out, self._pending = self._pending[:cut], self._pending[cut:]
        return out

    def flush(self) -> str:
        out, self._pending = self._pending, ""
        return out
