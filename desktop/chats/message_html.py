"""Messages as the HTML subset Qt's rich-text view shows: Markdown, highlighted code, actions.

Qt-free, so it is tested without a window. Links use the ``hearth:`` scheme; the view turns
them into actions (copy a message or a code block, edit, regenerate, switch branch, open or
close a thinking block). Raw HTML and images in a reply are never rendered: a model's output
is text, not markup that can reach files or the network.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from markdown_it import MarkdownIt
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

from desktop.chats.store import Branching, Message
from desktop.gguf.names import model_name
from desktop.gguf.reasoning import split_reasoning
from desktop.units import count_of


@dataclass(frozen=True)
class Theme:
    text: str = "#1f2328"
    dim: str = "#6e7781"
    accent: str = "#0969da"
    code_bg: str = "#f3f4f6"
    think_bg: str = "#f6f6f9"
    dark: bool = False


def model_label(path: str | None) -> str:
    return model_name(path) if path else "No model"


def stats_line(stats: dict[str, Any] | None) -> str:
    if not stats:
        return ""
    if stats.get("stop_reason") == "error":
        return "Cut short: the engine stopped. What was written is kept."
    parts = [f"{stats.get('completion_tokens', 0)} tokens"]
    ttft = stats.get("ttft_ms")
    if ttft:
        parts.append(
            f"{ttft:.0f} ms to first token" if ttft < 1000 else f"{ttft / 1000:.1f} s to first token"
        )
    if stats.get("gen_tps"):
        parts.append(f"{stats['gen_tps']:.1f} tokens/s")
    if stats.get("model"):
        parts.append(str(stats["model"]))
    reason = stats.get("stop_reason")
    if reason == "cancelled":
        parts.append("stopped")
    elif reason == "length":
        parts.append("reached the length limit")
    elif reason == "context":
        parts.append("the context is full")
    if stats.get("dropped_messages"):
        parts.append(f"{count_of(stats['dropped_messages'], 'oldest message')} left out to fit")
    return " · ".join(parts)


def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False})
    md.enable(["table", "strikethrough"])
    md.disable("image")
    return md


def _render_code(_renderer: Any, tokens: Any, idx: int, options: Any, env: dict[str, Any]) -> str:
    # Each block gets a copy link that names it by its place in the message.
    token = tokens[idx]
    language = (token.info or "").strip().split(" ")[0]
    renderer: MessageHtml = env["renderer"]
    out = renderer._code_block(token.content, language, env["message_id"], env["block"])
    env["block"] += 1
    return out


_MD = _markdown()
_MD.add_render_rule("fence", _render_code)
_MD.add_render_rule("code_block", _render_code)


def code_blocks(text: str) -> list[str]:
    """The fenced and indented code blocks of a reply, in order (for the copy links)."""
    answer = "\n\n".join(s.text for s in split_reasoning(text) if not s.thinking) or text
    return [t.content for t in _MD.parse(answer) if t.type in ("fence", "code_block")]


@lru_cache(maxsize=4)
def _formatter(dark: bool) -> HtmlFormatter[str]:
    return HtmlFormatter(noclasses=True, nowrap=True, style="github-dark" if dark else "default")


def _highlight(code: str, language: str, theme: Theme) -> str:
    try:
        lexer = get_lexer_by_name(language) if language else None
    except ClassNotFound:
        lexer = None
    if lexer is None:
        return html.escape(code)
    return str(highlight(code, lexer, _formatter(theme.dark))).rstrip("\n")


class MessageHtml:
    def __init__(self, theme: Theme) -> None:
        self.theme = theme

    def markdown(self, text: str, message_id: int) -> str:
        env: dict[str, Any] = {"renderer": self, "message_id": message_id, "block": 0}
        out = str(_MD.render(text, env))
        if "<table>" in out:  # Qt draws no cell borders unless asked
            out = out.replace(
                "<table>",
                f'<table border="1" cellspacing="0" cellpadding="4" style="border-color: {self.theme.dim};">',
            )
        return out

    def _code_block(self, code: str, language: str, message_id: int, index: int) -> str:
        t = self.theme
        label = html.escape(language) if language else "code"
        body = _highlight(code.rstrip("\n"), language, t)
        return (
            f'<table width="100%" cellspacing="0" cellpadding="6" bgcolor="{t.code_bg}" '
            f'style="margin-top: 6px; margin-bottom: 6px;">'
            f'<tr><td><span style="color: {t.dim};">{label}</span>&nbsp;&nbsp;'
            f'<a href="hearth:copy-code/{message_id}/{index}">Copy code</a></td></tr>'
            f'<tr><td><pre style="margin: 0;">{body}</pre></td></tr></table>'
        )

    def _thinking(self, text: str, message_id: int, expanded: bool, closed: bool) -> str:
        t = self.theme
        words = len(text.split())
        title = (
            f"Thought for {count_of(words, 'word')}" if closed else f"Thinking… ({count_of(words, 'word')})"
        )
        arrow = "▾" if expanded else "▸"
        head = (
            f'<p style="margin-top: 4px; margin-bottom: 4px;"><a href="hearth:think/{message_id}" '
            f'style="color: {t.dim}; text-decoration: none;">{arrow} {title}</a></p>'
        )
        if not expanded:
            return head
        return (
            head + f'<table width="100%" cellspacing="0" cellpadding="8" bgcolor="{t.think_bg}">'
            f'<tr><td style="color: {t.dim};">{self.markdown(text, message_id)}</td></tr></table>'
        )

    def reply_body(self, text: str, message_id: int, *, expanded_thinking: bool = False) -> str:
        parts: list[str] = []
        for segment in split_reasoning(text):
            if segment.thinking:
                parts.append(self._thinking(segment.text, message_id, expanded_thinking, segment.closed))
            else:
                parts.append(self.markdown(segment.text, message_id))
        return "".join(parts) or "<p></p>"

    @staticmethod
    def plain(text: str) -> str:
        paragraphs = text.split("\n\n")
        return "".join(
            "<p>" + "<br>".join(html.escape(line) for line in p.split("\n")) + "</p>" for p in paragraphs
        )

    def header(self, message: Message) -> str:
        t = self.theme
        who = "You" if message.role == "user" else model_label(message.model)
        colour = t.text if message.role == "user" else t.accent
        return (
            f'<a name="m{message.id}"></a><p style="margin-top: 16px; margin-bottom: 2px;">'
            f'<b style="color: {colour};">{html.escape(who)}</b></p>'
        )

    def footer(self, message: Message, branching: Branching | None) -> str:
        """Copy; Edit under a question, Regenerate under any reply (the old one stays a branch)."""
        t = self.theme
        links = [f'<a href="hearth:copy/{message.id}">Copy</a>']
        if message.role == "user":
            links.append(f'<a href="hearth:edit/{message.id}">Edit</a>')
        else:
            links.append(f'<a href="hearth:regenerate/{message.id}">Regenerate</a>')
        if branching is not None:
            before = branching.sibling_ids[branching.index - 1] if branching.index > 0 else None
            after = (
                branching.sibling_ids[branching.index + 1] if branching.index + 1 < branching.count else None
            )
            back = f'<a href="hearth:branch/{before}">‹</a>' if before else "‹"
            forth = f'<a href="hearth:branch/{after}">›</a>' if after else "›"
            links.append(f"{back} {branching.index + 1}/{branching.count} {forth}")
        stats = ""
        if message.role == "assistant":
            line = stats_line(message.stats or (None if message.complete else {"stop_reason": "error"}))
            if line:
                stats = html.escape(line) + "<br>"
        return (
            f'<p style="margin-top: 4px; color: {t.dim}; font-size: small;">{stats}'
            + " &nbsp;·&nbsp; ".join(links)
            + "</p>"
        )

    def message(
        self,
        message: Message,
        *,
        branching: Branching | None = None,
        expanded_thinking: bool = False,
    ) -> str:
        if message.role == "user":
            body = self.plain(message.content)
        else:
            body = self.reply_body(message.content, message.id, expanded_thinking=expanded_thinking)
        return self.header(message) + body + self.footer(message, branching)

    def notebook_part(self, message: Message) -> str:
        """Notebook mode: one flowing text, the model's continuations in the accent colour."""
        # pre-wrap: a continuation often starts with a space, which HTML would otherwise drop.
        text = html.escape(message.content).replace("\n", "<br>")
        colour = f" color: {self.theme.accent};" if message.role == "assistant" else ""
        return f'<span style="white-space: pre-wrap;{colour}">{text}</span>'
