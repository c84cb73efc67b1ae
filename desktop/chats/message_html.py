"""Messages as the HTML subset Qt's rich-text view shows: Markdown, highlighted code, actions.

Qt-free, so it is tested without a window. Links use the ``hearth:`` scheme; the view turns
them into actions (copy a message or a code block, edit, regenerate, switch branch, open or
close a thinking block). Raw HTML and images in a reply are never rendered: a model's output
is text, not markup that can reach files or the network.

The person's turns sit in a tinted bubble on the right; the model's are plain text under a
header that names it. Actions are small icons, ``<img src="icon:NAME">``, which the view
draws (``ICONS`` lists the names it must provide); each link has a title that says it in
words (its tooltip). Without icons (``MessageHtml(theme)``, as Compare uses it) the same
actions are quiet words.
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
    bubble: str = "#e9f1fb"  # the person's turns
    dark: bool = False


ICON_SIZE = 16  # logical pixels; the view supplies the images at twice that or more
# The icons the HTML asks for, as ``icon:NAME``; the view draws each one.
ICONS = (
    "copy",
    "edit",
    "regenerate",
    "previous",
    "next",
    "previous-off",  # no earlier branch: drawn faint, not a link
    "next-off",
    "expand",  # a closed thinking block
    "collapse",
    "model",  # beside the model's name over its turns
)


def model_label(path: str | None) -> str:
    return model_name(path) if path else "No model"


def stats_line(stats: dict[str, Any] | None, *, with_model: bool = True) -> str:
    """A reply's figures in words; ``with_model=False`` leaves out the model's file name (the
    turn's header already shows it)."""
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
    if stats.get("model") and with_model:
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
    def __init__(self, theme: Theme, *, icons: bool = False) -> None:
        self.theme = theme
        self.icons = icons  # the view draws ``ICONS`` (see the module's notes)

    def markdown(self, text: str, message_id: int) -> str:
        env: dict[str, Any] = {"renderer": self, "message_id": message_id, "block": 0}
        out = str(_MD.render(text, env))
        if "<table>" in out:  # Qt draws no cell borders unless asked
            out = out.replace(
                "<table>",
                f'<table border="1" cellspacing="0" cellpadding="4" style="border-color: {self.theme.dim};">',
            )
        return out

    def _icon(self, name: str, size: int = ICON_SIZE) -> str:
        return f'<img src="icon:{name}" width="{size}" height="{size}" style="vertical-align: bottom;">'

    def _action(
        self, href: str, icon: str, title: str, words: str = "", *, plain: str = "", of: int | None = None
    ) -> str:
        """A quiet link: an icon (``words`` beside it, if any); without icons, the words alone
        (``plain``, else ``words``, else the title). ``of``: the message whose pointer or focus
        shows it (the icon is ``icon:NAME/ID``, which the view draws or leaves blank)."""
        if self.icons:
            label = self._icon(icon if of is None else f"{icon}/{of}") + (f"&nbsp;{words}" if words else "")
        else:
            label = plain or words or title
        return (
            f'<a href="{href}" title="{title}" '
            f'style="color: {self.theme.dim}; text-decoration: none;">{label}</a>'
        )

    def _code_block(self, code: str, language: str, message_id: int, index: int) -> str:
        t = self.theme
        label = html.escape(language) if language else "code"
        body = _highlight(code.rstrip("\n"), language, t)
        copy = self._action(f"hearth:copy-code/{message_id}/{index}", "copy", "Copy code", "Copy")
        return (
            f'<table width="100%" cellspacing="0" cellpadding="6" bgcolor="{t.code_bg}" '
            f'style="margin-top: 6px; margin-bottom: 6px;">'
            f'<tr><td><span style="color: {t.dim}; font-size: small;">{label}</span></td>'
            f'<td align="right" style="font-size: small;">{copy}</td></tr>'
            f'<tr><td colspan="2"><pre style="margin: 0;">{body}</pre></td></tr></table>'
        )

    def _thinking(self, text: str, message_id: int, expanded: bool, closed: bool) -> str:
        t = self.theme
        words = len(text.split())
        title = (
            f"Thought for {count_of(words, 'word')}" if closed else f"Thinking… ({count_of(words, 'word')})"
        )
        if self.icons:
            label = self._icon("collapse" if expanded else "expand", 14) + "&nbsp;" + title
        else:
            label = ("▾ " if expanded else "▸ ") + title
        head = (
            f'<p style="margin-top: 4px; margin-bottom: 4px;"><a href="hearth:think/{message_id}" '
            f'title="{"Hide the thinking" if expanded else "Show the thinking"}" '
            f'style="color: {t.dim}; text-decoration: none;">{label}</a></p>'
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
    def plain(text: str, anchor: str = "") -> str:
        """The person's text as written: paragraphs and line breaks kept, nothing interpreted.
        ``anchor`` names the first paragraph (for scrolling to the message)."""
        paragraphs = ["<br>".join(html.escape(line) for line in p.split("\n")) for p in text.split("\n\n")]
        if anchor:
            paragraphs[0] = f'<a name="{anchor}"></a>' + paragraphs[0]
        return "".join(f"<p>{p}</p>" for p in paragraphs)

    def header(self, message: Message, name: str | None = None) -> str:
        """The model's name over its turn: ``name`` (the file's ``general.name``) or, without
        one, the name its file goes by. The person's turns need none: their bubble says it."""
        t = self.theme
        who = name or model_label(message.model)
        mark = self._icon("model") + "&nbsp;" if self.icons else ""
        return (
            f'<p style="margin-top: 20px; margin-bottom: 2px;"><a name="m{message.id}"></a>{mark}'
            f'<b style="color: {t.text};">{html.escape(who)}</b></p>'
        )

    def bubble(self, message: Message) -> str:
        """The person's turn: a tinted bubble on the right, at most four fifths of the width."""
        return (
            '<table width="100%" cellspacing="0" cellpadding="0" style="margin-top: 20px;">'
            '<tr><td width="20%"></td><td align="right">'
            f'<table cellspacing="0" cellpadding="10" bgcolor="{self.theme.bubble}"><tr><td>'
            f"{self.plain(message.content, f'm{message.id}')}</td></tr></table></td></tr></table>"
        )

    def _branch_switch(self, branching: Branching) -> str:
        """‹ 2/3 ›: the other versions of this turn, the arrows faint where there is none."""
        ids, index = branching.sibling_ids, branching.index
        before = ids[index - 1] if index > 0 else None
        after = ids[index + 1] if index + 1 < branching.count else None
        if before:
            back = self._action(f"hearth:branch/{before}", "previous", "Previous branch", plain="‹")
        else:
            back = self._icon("previous-off") if self.icons else "‹"
        if after:
            forth = self._action(f"hearth:branch/{after}", "next", "Next branch", plain="›")
        else:
            forth = self._icon("next-off") if self.icons else "›"
        return f"{back}&nbsp;{index + 1}/{branching.count}&nbsp;{forth}"

    def footer(self, message: Message, branching: Branching | None, name: str | None = None) -> str:
        """Copy; Edit under a question, Regenerate under any reply (the old one stays a branch);
        the branch switch; under a reply, its figures in a quiet line (with the file's name only
        where the header shows the model's own ``name``)."""
        t = self.theme
        gap = "&nbsp;&nbsp;&nbsp;" if self.icons else "&nbsp;·&nbsp;"
        mid = message.id
        actions = [self._action(f"hearth:copy/{mid}", "copy", "Copy", of=mid)]
        if message.role == "user":
            actions.append(self._action(f"hearth:edit/{mid}", "edit", "Edit", of=mid))
        else:
            actions.append(self._action(f"hearth:regenerate/{mid}", "regenerate", "Regenerate", of=mid))
        if branching is not None:
            actions.append(self._branch_switch(branching))
        row = gap.join(actions)
        style = f"margin-top: 4px; margin-bottom: 0; color: {t.dim}; font-size: small;"
        if message.role == "user":
            return f'<p align="right" style="{style}">{row}</p>'
        stats = message.stats or (None if message.complete else {"stop_reason": "error"})
        line = stats_line(stats, with_model=bool(name))
        figures = f"{gap}&nbsp;&nbsp;{html.escape(line)}" if line else ""
        return f'<p style="{style}">{row}{figures}</p>'

    def message(
        self,
        message: Message,
        *,
        branching: Branching | None = None,
        expanded_thinking: bool = False,
        name: str | None = None,
    ) -> str:
        """A whole turn; ``name`` is the model's own name (see ``header``)."""
        if message.role == "user":
            return self.bubble(message) + self.footer(message, branching)
        body = self.reply_body(message.content, message.id, expanded_thinking=expanded_thinking)
        return self.header(message, name) + body + self.footer(message, branching, name)

    def notebook_part(self, message: Message) -> str:
        """Notebook mode: one flowing text, the model's continuations in the accent colour."""
        # pre-wrap: a continuation often starts with a space, which HTML would otherwise drop.
        text = html.escape(message.content).replace("\n", "<br>")
        colour = f" color: {self.theme.accent};" if message.role == "assistant" else ""
        return f'<span style="white-space: pre-wrap;{colour}">{text}</span>'
