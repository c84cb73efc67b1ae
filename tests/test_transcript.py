"""The transcript reads as a chat: the person's turns in bubbles, the model's named, actions
as small icons that Tab reaches and Enter follows, quiet figures, a streamed reply drawn as a
reopened one is."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QColor, QImage, QPalette, QTextCursor, QTextDocument

from desktop.chats.message_html import ICON_SIZE, ICONS
from desktop.chats.store import Branching, Message
from desktop.ui.chat.transcript import ChatTranscript

MODEL = "/models/owner/tiny-llama-Q8_0.gguf"


def anchors(transcript: ChatTranscript) -> list[tuple[str, str]]:
    """Every link in the transcript, in order, with its tooltip: (href, title)."""
    found: list[tuple[str, str]] = []
    block = transcript.document().begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            fmt = it.fragment().charFormat()
            if fmt.isAnchor() and fmt.anchorHref() and (not found or found[-1][0] != fmt.anchorHref()):
                found.append((fmt.anchorHref(), fmt.toolTip()))
            it += 1
        block = block.next()
    return found


def question(id_: int, text: str = "How do I reverse a string?") -> Message:
    return Message(id_, 1, "user", text, "", None, None, True)


def answer(id_: int, text: str = "Use a slice: `text[::-1]`.", model: str | None = MODEL) -> Message:
    stats = {"completion_tokens": 9, "gen_tps": 41.3, "model": "tiny-llama-Q8_0"}
    return Message(id_, 1, "assistant", text, "", model, stats, True)


@pytest.fixture
def transcript(qtbot) -> ChatTranscript:
    view = ChatTranscript()
    view.resize(720, 600)
    qtbot.addWidget(view)
    view.show()
    return view


def cursor_at(transcript: ChatTranscript, text: str) -> QTextCursor:
    cursor = transcript.document().find(text)
    assert not cursor.isNull(), text
    return cursor


def test_the_persons_turns_are_bubbles_and_the_models_are_named(transcript: ChatTranscript) -> None:
    transcript.show_messages([question(1), answer(2)])
    theme = transcript._renderer.theme
    bubble = cursor_at(transcript, "How do I reverse").currentTable()
    assert bubble is not None
    assert bubble.format().background().color().name() == theme.bubble != theme.code_bg
    assert cursor_at(transcript, "Use a slice").currentTable() is None  # the reply is plain text
    header = cursor_at(transcript, "tiny-llama-Q8_0")
    assert header.charFormat().fontWeight() >= 600 and header.currentTable() is None
    assert "You" not in transcript.plain_text()  # the bubble says who wrote it
    # The figures under the reply leave out the file name the header already shows.
    assert "9 tokens · 41.3 tokens/s" in transcript.plain_text()
    assert transcript.plain_text().count("tiny-llama-Q8_0") == 1


def test_the_models_own_name_heads_its_replies(transcript: ChatTranscript) -> None:
    transcript.show_messages([question(1), answer(2), question(3)])
    transcript.set_model_name("Tiny Llama Chat", MODEL)
    text = transcript.plain_text()
    assert "Tiny Llama Chat" in text and "tiny-llama-Q8_0" in text  # the file's name moves to the figures
    # A new reply, streamed, is headed by the name too, before and after it ends.
    transcript.set_model_name("Other Model")  # the model loaded now, for the replies from now on
    reply = Message(4, 1, "assistant", "", "", "/models/other.gguf", None, False)
    transcript.begin_reply(reply)
    assert "Other Model" in transcript.plain_text()
    transcript.append_reply("Sure.")
    transcript.end_reply(answer(4, "Sure.", model="/models/other.gguf"))
    assert transcript.plain_text().count("Other Model") == 1
    # A file without a name: its file's name again.
    transcript.set_model_name(None, MODEL)
    assert "Tiny Llama Chat" not in transcript.plain_text()


def test_a_streamed_reply_reads_as_the_same_reply_reopened(qtbot, transcript: ChatTranscript) -> None:
    first = [question(1), answer(2)]
    transcript.show_messages(first)
    transcript.append_message(question(3))  # a bubble after a reply
    transcript.begin_reply(Message(4, 1, "assistant", "", "", MODEL, None, False))
    transcript.append_reply("Here:\n\n```python\nprint(1)\n```\n")
    qtbot.waitUntil(lambda: "print(1)" in transcript.plain_text())
    final = answer(4, "Here:\n\n```python\nprint(1)\n```\n")
    transcript.end_reply(final)
    streamed = blocks(transcript)
    transcript.show_messages([*first, question(3), final])
    assert blocks(transcript) == streamed


def blocks(transcript: ChatTranscript) -> list[tuple[str, bool, float]]:
    """Each paragraph's text, whether it is aligned right, and the space above it."""
    found = []
    block = transcript.document().begin()
    while block.isValid():
        fmt = block.blockFormat()
        right = bool(fmt.alignment() & Qt.AlignmentFlag.AlignRight)
        found.append((block.text().replace("\ufffc", "[icon]"), right, fmt.topMargin()))
        block = block.next()
    return found


def test_actions_are_titled_icons_that_tab_reaches_and_enter_follows(
    qtbot, transcript: ChatTranscript
) -> None:
    reply = answer(3, "```sh\necho hi\n```")
    transcript.show_messages([question(1), reply], {3: Branching(1, 2, (2, 3))})
    expected = [
        ("hearth:copy/1", "Copy"),
        ("hearth:edit/1", "Edit"),
        ("hearth:copy-code/3/0", "Copy code"),
        ("hearth:copy/3", "Copy"),
        ("hearth:regenerate/3", "Regenerate"),
        ("hearth:branch/2", "Previous branch"),
    ]
    assert anchors(transcript) == expected
    html = transcript.toHtml()
    assert "icon:copy" in html and "icon:next-off" in html  # no next branch: a faint arrow, no link
    assert "text-decoration: underline" not in html.split("<body", 1)[1]
    shown = transcript.plain_text()
    assert "Edit" not in shown and "Regenerate" not in shown and "Copy" in shown  # icons; "Copy" by the code
    # Tab goes from one action to the next, each with its tooltip
    transcript.setFocus()
    reached = []
    for _ in expected:
        assert transcript.focusNextPrevChild(True)
        fmt = transcript.textCursor().charFormat()
        reached.append((fmt.anchorHref(), fmt.toolTip()))
    assert reached == expected
    # Shift+Tab back to Regenerate, then Enter does it
    transcript.focusNextPrevChild(False)
    with qtbot.waitSignal(transcript.regenerate_requested) as regenerate:
        qtbot.keyClick(transcript, Qt.Key.Key_Return)
    assert regenerate.args == [3]


def icon(transcript: ChatTranscript, name: str) -> QImage:
    resource = transcript.document().resource(QTextDocument.ResourceType.ImageResource, QUrl(f"icon:{name}"))
    assert isinstance(resource, QImage), name
    return resource


def ink(image: QImage) -> list[QColor]:
    """The icon's opaque pixels (the edges, blended, are left out)."""
    return [
        image.pixelColor(x, y)
        for x in range(image.width())
        for y in range(image.height())
        if image.pixelColor(x, y).alpha() == 255
    ]


def test_icons_are_drawn_at_twice_their_size_in_the_themes_colours(transcript: ChatTranscript) -> None:
    theme = transcript._renderer.theme
    for name in ICONS:
        image = icon(transcript, name)
        assert image.devicePixelRatio() >= 2 and image.width() >= 2 * ICON_SIZE
        assert image.width() / image.devicePixelRatio() == ICON_SIZE
        if not name.endswith("-off"):  # the faint ones have no opaque pixel
            assert len(ink(image)) > 20, name
    assert {c.name() for c in ink(icon(transcript, "copy"))} == {theme.dim}
    # A darker palette: the icons are drawn again, in its colours.
    dark = QPalette(transcript.palette())
    dark.setColor(QPalette.ColorRole.Base, QColor("#1e1e1e"))
    dark.setColor(QPalette.ColorRole.Text, QColor("#e6e6e6"))
    dark.setColor(QPalette.ColorRole.PlaceholderText, QColor("#a0a0a0"))
    transcript.setPalette(dark)
    assert {c.name() for c in ink(icon(transcript, "copy"))} == {"#a0a0a0"}


def test_the_figures_are_quiet(transcript: ChatTranscript) -> None:
    transcript.show_messages([question(1), answer(2)])
    figures = cursor_at(transcript, "41.3 tokens/s").charFormat()
    body = cursor_at(transcript, "Use a slice").charFormat()
    assert figures.foreground().color().name() == transcript._renderer.theme.dim
    assert not figures.fontUnderline() and not figures.isAnchor()
    assert figures.font().pointSizeF() < body.font().pointSizeF()


def test_thinking_opens_with_an_icon_and_says_so(transcript: ChatTranscript) -> None:
    transcript.show_messages([question(1), answer(2, "<think>Slices.</think>Use a slice.")])
    assert ("hearth:think/2", "Show the thinking") in anchors(transcript)
    assert "icon:expand" in transcript.toHtml()
    transcript.anchorClicked.emit(QUrl("hearth:think/2"))
    assert ("hearth:think/2", "Hide the thinking") in anchors(transcript)
    assert "icon:collapse" in transcript.toHtml() and "Slices." in transcript.plain_text()


def test_the_bubble_is_tinted_for_any_palette(transcript: ChatTranscript) -> None:
    from desktop.ui.chat.transcript import theme_from
    from desktop.ui.style.tokens import contrast

    for base, text in (("#fdfdfd", "#111111"), ("#101418", "#eeeeee")):
        palette = QPalette(transcript.palette())
        palette.setColor(QPalette.ColorRole.Base, QColor(base))
        palette.setColor(QPalette.ColorRole.Text, QColor(text))
        theme = theme_from(palette)
        assert theme.bubble != base and contrast(theme.text, theme.bubble) >= 4.5


def test_on_a_wide_window_the_conversation_is_a_centred_column(qtbot, transcript: ChatTranscript) -> None:
    from desktop.ui.chat.transcript import COLUMN_WIDTH

    transcript.show_messages([question(1), answer(2)])
    transcript.resize(600, 500)
    qtbot.waitUntil(lambda: transcript.viewport().width() > 500)  # narrow: all of it
    transcript.resize(1800, 500)
    bar = transcript.verticalScrollBar().sizeHint().width()  # room kept for it, shown or not
    qtbot.waitUntil(lambda: transcript.viewport().width() <= COLUMN_WIDTH + bar)
    left = transcript.viewport().geometry().left()
    right = transcript.width() - transcript.viewport().geometry().right()
    assert left > 400 and abs(left - right) < 40


def test_a_messages_actions_show_under_the_pointer_or_the_focus_and_under_the_newest(
    qtbot, transcript: ChatTranscript
) -> None:
    transcript.show_messages([question(1), answer(2), question(3), answer(4)], {})
    assert [transcript.actions_shown(m) for m in (1, 2, 3, 4)] == [False, False, False, True]
    first = transcript.cursorRect(cursor_at(transcript, "How do I reverse")).center()
    qtbot.mouseMove(transcript.viewport(), first)
    qtbot.waitUntil(lambda: transcript.actions_shown(1))
    assert not transcript.actions_shown(2) and transcript.actions_shown(4)
    blank = transcript.document().resource(QTextDocument.ResourceType.ImageResource, QUrl("icon:copy/2"))
    assert isinstance(blank, QImage) and all(c.alpha() == 0 for c in ink_all(blank))  # its place kept
    # The keyboard: Tab to the second message's Copy shows that message's actions
    transcript.setFocus()
    for _ in range(3):  # copy/1, edit/1, copy/2
        transcript.focusNextPrevChild(True)
    assert transcript.textCursor().charFormat().anchorHref() == "hearth:copy/2"
    assert transcript.actions_shown(2)
    # A new message is the newest: the one before it folds its actions away
    transcript.append_message(question(5, "And a list?"))
    assert transcript.actions_shown(5) and not transcript.actions_shown(4)


def ink_all(image: QImage) -> list[QColor]:
    return [image.pixelColor(x, y) for x in range(image.width()) for y in range(image.height())]
