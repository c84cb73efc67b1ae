"""A reasoning model's thinking, told apart from its answer.

Models mark their thinking in different ways (``<think>…</think>`` for DeepSeek-R1 and Qwen3,
``[THINK]…[/THINK]`` for Magistral, ``◁think▷…◁/think▷`` for Kimi, ``<thinking>…</thinking>``
for some fine-tunes). Templates such as DeepSeek-R1's open the block in the generation
prompt, so a reply may hold only the closing marker: what comes before it is thinking.
"""

from __future__ import annotations

from dataclasses import dataclass

MARKERS: tuple[tuple[str, str], ...] = (
    ("<think>", "</think>"),
    ("<thinking>", "</thinking>"),
    ("[THINK]", "[/THINK]"),
    ("◁think▷", "◁/think▷"),
)


@dataclass(frozen=True)
class Segment:
    text: str
    thinking: bool
    closed: bool = True  # False for thinking still being written


def _first_marker(text: str, start: int) -> tuple[int, str, str] | None:
    best: tuple[int, str, str] | None = None
    for opening, closing in MARKERS:
        at = text.find(opening, start)
        if at >= 0 and (best is None or at < best[0]):
            best = (at, opening, closing)
    return best


def split_reasoning(text: str) -> list[Segment]:
    """The reply as answer and thinking parts, in order; empty parts are left out."""
    segments: list[Segment] = []
    position = 0
    opened = _first_marker(text, 0)
    # A closing marker before any opening one: the template opened the block.
    for opening, closing in MARKERS:
        close_at = text.find(closing)
        if close_at >= 0 and (opened is None or close_at < opened[0]) and opening not in text[:close_at]:
            segments.append(Segment(text[:close_at].strip("\n"), thinking=True))
            position = close_at + len(closing)
            break
    while True:
        found = _first_marker(text, position)
        if found is None:
            break
        at, opening, closing = found
        if text[position:at].strip():
            segments.append(Segment(text[position:at].strip("\n"), thinking=False))
        end = text.find(closing, at + len(opening))
        if end < 0:
            segments.append(Segment(text[at + len(opening) :].strip("\n"), thinking=True, closed=False))
            return [s for s in segments if s.text or not s.closed]
        segments.append(Segment(text[at + len(opening) : end].strip("\n"), thinking=True))
        position = end + len(closing)
    if text[position:].strip():
        segments.append(Segment(text[position:].lstrip("\n"), thinking=False))
    return [s for s in segments if s.text or not s.closed]


def has_reasoning(text: str) -> bool:
    return any(s.thinking for s in split_reasoning(text))


def answer_only(text: str) -> str:
    """The reply without its thinking: what a later prompt should carry."""
    if not has_reasoning(text):
        return text
    return "\n\n".join(s.text.strip() for s in split_reasoning(text) if not s.thinking).strip()


def template_handles_reasoning(template: str | None) -> bool:
    """Whether a chat template drops thinking from past turns itself (Qwen3, DeepSeek-R1 do)."""
    return bool(template) and any(closing in (template or "") for _, closing in MARKERS)


class ReasoningStream:
    """``split_reasoning`` for a reply as it streams: each piece of text in, the thinking and
    the answer it adds out. Text that may be the start of a marker waits for the next piece."""

    def __init__(self) -> None:
        self._pending = ""
        self._closing: str | None = None  # inside a thinking block: the marker that ends it
        self._after_marker = False  # newlines next to a marker belong to neither part

    def feed(self, text: str) -> tuple[str, str]:
        """The (thinking, answer) text that ``text`` completes."""
        self._pending += text
        thinking, answer = "", ""
        while True:
            if self._closing is not None:
                at = self._pending.find(self._closing)
                if at < 0:
                    thinking += self._take(_safe_length(self._pending, (self._closing,)))
                    return thinking, answer
                thinking += self._take(at).rstrip("\n")
                self._pending = self._pending[len(self._closing) :]
                self._closing = None
                self._after_marker = True
            else:
                found = _first_marker(self._pending, 0)
                if found is None:
                    answer += self._take(_safe_length(self._pending, tuple(o for o, _ in MARKERS)))
                    return thinking, answer
                at, opening, closing = found
                answer += self._take(at)
                self._pending = self._pending[len(opening) :]
                self._closing = closing
                self._after_marker = True

    def flush(self) -> tuple[str, str]:
        """What was held back, at the end of the reply (an unclosed block stays thinking)."""
        rest = self._take(len(self._pending))
        return (rest, "") if self._closing is not None else ("", rest)

    def _take(self, n: int) -> str:
        out, self._pending = self._pending[:n], self._pending[n:]
        if self._after_marker:
            stripped = out.lstrip("\n")
            if stripped:
                self._after_marker = False
            out = stripped
        return out


def _safe_length(text: str, markers: tuple[str, ...]) -> int:
    """How much of ``text`` can go out: all but a tail that may grow into one of ``markers``."""
    for n in range(min(len(text), max(len(m) for m in markers) - 1), 0, -1):
        if any(m.startswith(text[-n:]) for m in markers):
            return len(text) - n
    return len(text)
