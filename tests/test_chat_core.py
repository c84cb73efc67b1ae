"""The Qt-free chat core: branches, presets, the schema 3 migration, reasoning, rendering, settings."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from desktop.chats.chat_settings import ChatSettings
from desktop.chats.message_html import MessageHtml, Theme, code_blocks, stats_line
from desktop.chats.store import MIGRATIONS, ConversationStore, Message
from desktop.chats.turns import engine_messages, engine_mode
from desktop.engine.protocol import ChatMessage
from desktop.engine.worker import _opened_thinking
from desktop.gguf.reasoning import answer_only, split_reasoning, template_handles_reasoning
from desktop.gguf.sampling import recommended_sampling


def test_edits_and_regenerations_make_branches_that_can_be_switched(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "chats.sqlite3")
    chat = store.create_conversation(model=None)
    q1 = store.add_message(chat.id, "user", "First question")
    a1 = store.add_message(chat.id, "assistant", "First answer")
    q2 = store.add_message(chat.id, "user", "Second question")
    a2 = store.add_message(chat.id, "assistant", "Second answer")
    # Regenerate the second answer
    store.rewind_to(chat.id, q2.id)
    a2b = store.add_message(chat.id, "assistant", "Second answer, again")
    assert [m.id for m in store.messages(chat.id)] == [q1.id, a1.id, q2.id, a2b.id]
    # Edit the first question: the rest stays on the old branch
    store.rewind_to(chat.id, None)
    q1b = store.add_message(chat.id, "user", "First question, edited")
    assert [m.content for m in store.messages(chat.id)] == ["First question, edited"]
    branching = store.branching(chat.id)
    assert branching[q1b.id].index == 1 and branching[q1b.id].count == 2
    assert branching[a2.id].sibling_ids == (a2.id, a2b.id)
    assert q1.id not in [m.id for m in store.messages(chat.id)]
    # Switching to the old question follows its newest replies down
    store.show_branch(q1.id)
    assert [m.id for m in store.messages(chat.id)] == [q1.id, a1.id, q2.id, a2b.id]
    store.show_branch(a2.id)
    assert store.messages(chat.id)[-1].id == a2.id
    assert store.message_count(chat.id) == 6
    # A duplicate keeps every branch and shows the same one
    copy = store.duplicate_conversation(chat.id)
    assert [m.content for m in store.messages(copy.id)] == [m.content for m in store.messages(chat.id)]
    assert store.message_count(copy.id) == 6 and len(store.branching(copy.id)) == 4
    # Deleting a reply shows its question again
    store.delete_message(a2.id)
    assert store.messages(chat.id)[-1].id == q2.id
    store.close()


def test_presets_and_conversation_settings_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "chats.sqlite3"
    store = ConversationStore(path)
    store.save_preset("  Terse  ", "One sentence.")
    store.save_preset("Terse", "One short sentence.")
    store.save_preset("annotator", "Mark every claim.")
    with pytest.raises(ValueError):
        store.save_preset("  ", "x")
    chat = store.create_conversation(model=None, system_prompt="Be kind.")
    store.set_settings(
        chat.id, ChatSettings(sampling={"temperature": 0.2}, context_policy="drop_oldest").to_dict()
    )
    store.rename(chat.id, "  My   chat ")
    store.close()
    store = ConversationStore(path)
    assert [(p.name, p.system_prompt) for p in store.presets()] == [
        ("annotator", "Mark every claim."),
        ("Terse", "One short sentence."),
    ]
    reopened = store.conversation(chat.id)
    assert reopened is not None
    assert reopened.title == "My chat" and reopened.system_prompt == "Be kind."
    settings = ChatSettings.from_dict(reopened.settings)
    assert settings.context_policy == "drop_oldest"
    assert settings.effective_sampling({"temperature": 0.6, "top_k": 20}).temperature == 0.2
    assert settings.effective_sampling({"top_k": 20}).top_k == 20
    store.delete_preset("Terse")
    assert [p.name for p in store.presets()] == ["annotator"]
    store.close()


def test_schema_2_history_gets_branches_and_its_system_prompt_moved(tmp_path: Path) -> None:
    path = tmp_path / "chats.sqlite3"
    db = sqlite3.connect(path)
    for _name, statements in MIGRATIONS[:2]:
        for statement in statements:
            db.execute(statement)
    db.execute("INSERT INTO conversations VALUES (1, 'Old', NULL, 'x', 'x')")
    for role, content in (("system", "Be brief."), ("user", "Hi"), ("assistant", "Hello"), ("user", "Bye")):
        db.execute(
            "INSERT INTO messages (conversation_id, role, content, created) VALUES (1, ?, ?, 'x')",
            (role, content),
        )
    db.execute("PRAGMA user_version = 2")
    db.commit()
    db.close()
    store = ConversationStore(path)
    conversation = store.conversation(1)
    assert conversation is not None
    assert conversation.system_prompt == "Be brief."
    messages = store.messages(1)
    assert [m.content for m in messages] == ["Hi", "Hello", "Bye"]
    assert messages[0].parent_id is None and messages[2].parent_id == messages[1].id
    assert engine_messages(conversation, messages)[0] == ChatMessage("system", "Be brief.")
    assert [h.title for h in store.search("Hello")] == ["Old"]
    store.close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []


def test_notebook_conversations_send_plain_text() -> None:
    from desktop.chats.store import Conversation

    chat = Conversation(1, "t", None, "x", "x", "Be brief.", {"mode": "notebook"})
    turns = [Message(1, 1, "user", "Once upon", "x", None, None, True)]
    assert engine_messages(chat, turns) == [ChatMessage("user", "Once upon")]  # no system prompt
    assert engine_mode(chat) == "complete"


@pytest.mark.parametrize(
    ("text", "thinking", "answer"),
    [
        ("<think>hmm</think>Four.", ["hmm"], "Four."),
        ("Plan: hmm</think>\n\nFour.", ["Plan: hmm"], "Four."),  # the template opened the block
        ("[THINK]weigh it[/THINK]Yes.", ["weigh it"], "Yes."),
        ("<think>still going", ["still going"], ""),
        ("No thinking at all.", [], "No thinking at all."),
        ("A <think>x</think>B<thinking>y</thinking>C", ["x", "y"], "A\n\nB\n\nC"),
    ],
)
def test_thinking_is_told_apart_from_the_answer(text: str, thinking: list[str], answer: str) -> None:
    segments = split_reasoning(text)
    assert [s.text for s in segments if s.thinking] == thinking
    assert answer_only(text) == answer


def test_templates_that_drop_thinking_themselves_are_left_to_it() -> None:
    qwen3 = (Path(__file__).parent / "chat_templates" / "qwen3.jinja").read_text()
    assert template_handles_reasoning(qwen3)
    assert not template_handles_reasoning("{{ messages[0].content }}") and not template_handles_reasoning(
        None
    )
    assert _opened_thinking("<｜Assistant｜><think>\n") == "<think>\n"
    assert _opened_thinking("<|im_start|>assistant\n") is None


def test_replies_render_safely_with_code_and_actions() -> None:
    renderer = MessageHtml(Theme())
    hostile = (
        "<script>alert(1)</script> <img src=file:///etc/passwd> [x](file:///etc/passwd) ![i](http://x/i.png)\n\n"
        "```python\nprint('hi')\n```"
    )
    message = Message(7, 1, "assistant", hostile, "x", "/m/model.gguf", {"completion_tokens": 3}, True)
    html = renderer.message(message)
    assert "<script>" not in html and "<img" not in html and 'href="file:' not in html
    assert "&lt;script&gt;" in html
    assert 'href="hearth:copy-code/7/0"' in html and 'href="hearth:regenerate/7"' in html
    assert code_blocks(hostile) == ["print('hi')\n"]
    assert "model" in html  # who wrote it, from the model's file name
    assert stats_line({"completion_tokens": 5, "stop_reason": "context", "dropped_messages": 2}) == (
        "5 tokens · the context is full · 2 oldest messages left out to fit"
    )
    assert stats_line({"completion_tokens": 1, "dropped_messages": 1}).endswith(
        "1 oldest message left out to fit"
    )


def test_counts_agree_with_their_nouns() -> None:
    from desktop.units import count_of

    assert [count_of(n, "model") for n in (0, 1, 2, 1500)] == [
        "0 models",
        "1 model",
        "2 models",
        "1,500 models",
    ]
    assert count_of(1, "quantisation") == "1 quantisation" and count_of(3, "match", "matches") == "3 matches"


def test_recommended_sampling_comes_from_general_sampling_keys() -> None:
    metadata = {
        "general.sampling.temp": "0.6",
        "general.sampling.top_k": "20",
        "general.sampling.top_p": "bad",
    }
    assert recommended_sampling(metadata) == {"temperature": 0.6, "top_k": 20.0}
    assert ChatSettings().effective_sampling(recommended_sampling(metadata)).top_k == 20
