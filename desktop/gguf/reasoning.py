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
