"""What the engine does for a chat: thinking, the context limit, the KV cache, hostile templates."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from desktop.engine.chat_template import render_prompt
from desktop.engine.client import EngineClient
from desktop.engine.protocol import (
    ChatMessage,
    EngineError,
    GenerationStats,
    LoadOptions,
    Sampling,
)
from desktop.gguf.tiny_model import CHATML_TEMPLATE
from tests.test_engine import _collect, client

__all__ = ["client"]  # a fixture, shared with test_engine

# DeepSeek-R1's habit: the generation prompt opens the thinking block.
OPENS_THINKING = CHATML_TEMPLATE.replace("<|im_start|>assistant\n", "<|im_start|>assistant\n<think>\n")


def _run(client: EngineClient, request: str) -> tuple[str, GenerationStats]:
    tokens, stats = _collect(client, request)
    return "".join(tokens), stats


def test_a_reply_that_starts_inside_thinking_carries_its_opening_marker(
    client: EngineClient, model_cache: Callable[..., Path]
) -> None:
    model = model_cache("thinks-F32.gguf", chat_template=OPENS_THINKING)
    client.load(LoadOptions(str(model)))
    client.wait_loaded()
    text, stats = _run(client, client.chat([ChatMessage("user", "hi")], Sampling(max_tokens=5, seed=1)))
    assert text.startswith("<think>\n") and stats.text == text


def test_thinking_stays_out_of_later_prompts_unless_the_template_keeps_it(
    client: EngineClient, tiny_model: Path
) -> None:
    history = [
        ChatMessage("user", "What is 2 + 2?"),
        ChatMessage("assistant", "<think>private reasoning</think>It is 4."),
        ChatMessage("user", "And 3 + 3?"),
    ]
    rendered = client.render(str(tiny_model), history)
    assert "private reasoning" not in rendered.prompt and "It is 4." in rendered.prompt


def test_context_policies(client: EngineClient, tiny_model: Path) -> None:
    client.load(LoadOptions(str(tiny_model), n_ctx=256))
    client.wait_loaded()
    words = " ".join(["the quick model writes a good answer"] * 5)
    history = [ChatMessage("system", "Be brief.")]
    for n in range(6):
        history += [ChatMessage("user", f"{n} {words}"), ChatMessage("assistant", words)]
    history.append(ChatMessage("user", "last question"))

    # stop: refused in words, nothing generated
    client.chat(history, Sampling(max_tokens=16))
    event = client.next_event(60)
    assert isinstance(event, EngineError) and event.kind == "context"
    assert "does not fit the context" in event.message

    # drop the oldest: the system prompt and the newest turns kept, the count reported
    request = client.chat(history, Sampling(max_tokens=16, seed=1), context_policy="drop_oldest")
    _text, stats = _run(client, request)
    assert stats.dropped_messages >= 2 and stats.dropped_messages % 2 == 0
    assert stats.prompt_tokens + 16 <= stats.n_ctx
    assert stats.completion_tokens == 16

    # a reply that reaches the end of the context says so
    request = client.chat(history[-1:], Sampling(max_tokens=100_000, seed=1))
    _text, stats = _run(client, request)
    assert stats.stop_reason == "context" and stats.prompt_tokens + stats.completion_tokens == stats.n_ctx


def test_the_next_turn_reuses_the_cached_prompt(client: EngineClient, tiny_model: Path) -> None:
    client.load(LoadOptions(str(tiny_model)))
    client.wait_loaded()
    history = [ChatMessage("user", "tell me about the model")]
    first, stats1 = _run(client, client.chat(history, Sampling(max_tokens=20, seed=1)))
    history += [ChatMessage("assistant", first), ChatMessage("user", "and the quant")]
    _second, stats2 = _run(client, client.chat(history, Sampling(max_tokens=20, seed=1)))
    assert stats1.cached_tokens == 0
    assert stats2.cached_tokens >= stats1.prompt_tokens  # the first turn's prompt was not read again


@pytest.mark.parametrize(
    "template",
    [
        "{% include '/etc/passwd' %}",
        "{% import 'os' as os %}{{ os }}",
        "{{ cycler.__init__.__globals__.os.popen('echo owned > /tmp/hearth-owned').read() }}",
        "{{ self._TemplateReference__context }}",
        "{{ messages.__class__.__base__.__subclasses__() }}",
        "{% for x in range(10**9) %}{% endfor %}",
    ],
)
def test_a_hostile_template_runs_nothing_and_falls_back_with_a_note(template: str) -> None:
    rendered = render_prompt([ChatMessage("user", "Hi")], template=template, architecture="llama")
    assert rendered.source == "fallback:chatml" and rendered.note and "failed" in rendered.note
    assert rendered.text == "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
    assert not Path("/tmp/hearth-owned").exists()
