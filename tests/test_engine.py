from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest

from desktop.engine.chat_template import render_prompt
from desktop.engine.client import EngineClient, EngineFailure
from desktop.engine.protocol import (
    ChatMessage,
    EngineError,
    GenerationStats,
    LoadOptions,
    Sampling,
    TokenEvent,
)
from desktop.gguf.header_cache import HeaderCache
from desktop.gguf.tiny_model import CHATML_TEMPLATE
from desktop.paths import hearth_paths


@pytest.fixture
def client():
    c = EngineClient()
    yield c
    c.shutdown()


def _collect(client: EngineClient, request: str) -> tuple[list[str], GenerationStats]:
    tokens: list[str] = []
    for event in client.stream(request, timeout=60):
        if isinstance(event, TokenEvent):
            tokens.append(event.text)
        else:
            return tokens, event
    raise AssertionError("no stats")


def test_load_and_stream_a_reply(client: EngineClient, tiny_model: Path) -> None:
    client.load(LoadOptions(str(tiny_model)))
    loaded = client.wait_loaded()
    assert loaded.architecture == "llama"
    assert loaded.n_ctx == 2048  # the trained length, under the cap
    assert loaded.template_source == "gguf" and loaded.template_note is None
    assert loaded.backend == "cpu" and loaded.load_ms > 0

    request = client.chat([ChatMessage("user", "hello model")], Sampling(max_tokens=12, seed=1))
    tokens, stats = _collect(client, request)
    assert len(tokens) >= 2  # streamed piece by piece
    assert stats.text == "".join(tokens) and stats.text.strip()
    assert stats.completion_tokens == 12 and stats.stop_reason == "length"
    assert stats.prompt_tokens > 5 and stats.ttft_ms > 0 and stats.gen_tps > 0


def test_same_seed_same_reply_and_second_turn_works(client: EngineClient, tiny_model: Path) -> None:
    client.load(LoadOptions(str(tiny_model)))
    client.wait_loaded()
    first = _collect(client, client.chat([ChatMessage("user", "hi")], Sampling(max_tokens=8, seed=5)))[1]
    again = _collect(client, client.chat([ChatMessage("user", "hi")], Sampling(max_tokens=8, seed=5)))[1]
    assert first.text == again.text
    turn2 = [ChatMessage("user", "hi"), ChatMessage("assistant", first.text), ChatMessage("user", "more")]
    stats = _collect(client, client.chat(turn2, Sampling(max_tokens=8, seed=5)))[1]
    assert stats.prompt_tokens > first.prompt_tokens and stats.completion_tokens == 8


def test_cancel_stops_before_the_next_token(client: EngineClient, tiny_model: Path) -> None:
    client.load(LoadOptions(str(tiny_model)))
    client.wait_loaded()
    request = client.chat([ChatMessage("user", "go on")], Sampling(max_tokens=1500))
    received: list[str] = []
    cancelled_at = 0.0
    for event in client.stream(request):
        if isinstance(event, TokenEvent):
            received.append(event.text)
            if len(received) == 3:
                client.cancel(request)
                cancelled_at = time.perf_counter()
        else:
            stats = event
            break
    # The worker looks for a cancel before each token: the reply ends at once, not at 1,500.
    assert stats.stop_reason == "cancelled"
    assert time.perf_counter() - cancelled_at < 0.5 and stats.completion_tokens < 1500
    assert stats.text == "".join(received)


def test_corrupt_model_gives_a_clear_error_and_the_next_load_works(
    client: EngineClient, tmp_path: Path, tiny_model: Path
) -> None:
    bad = tmp_path / "bad.gguf"
    data = bytearray(tiny_model.read_bytes())
    data[8:16] = (10**15).to_bytes(8, "little")  # an absurd tensor count
    bad.write_bytes(bytes(data))
    client.load(LoadOptions(str(bad)))
    with pytest.raises(EngineFailure) as info:
        client.wait_loaded()
    assert "can't be used: truncated or corrupt header" in str(info.value)
    client.load(LoadOptions(str(tiny_model)))
    assert client.wait_loaded().architecture == "llama"


def test_a_truncated_model_gives_a_clear_error(
    client: EngineClient, tmp_path: Path, tiny_model: Path
) -> None:
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(tiny_model.read_bytes()[: tiny_model.stat().st_size // 2])  # a download cut short
    client.load(LoadOptions(str(cut)))
    with pytest.raises(EngineFailure) as info:
        client.wait_loaded()
    assert "can't be used" in str(info.value) and "truncated" in str(info.value)
    client.load(LoadOptions(str(tiny_model)))  # the worker lives on
    assert client.wait_loaded().architecture == "llama"


def test_the_worker_reads_headers_through_the_header_cache(
    client: EngineClient, tmp_path: Path, tiny_model: Path
) -> None:
    """A model the library has read is not parsed again to load (its header is looked up); a
    file changed since (cut short in place) is read again, and refused."""
    model = tmp_path / "cached.gguf"
    shutil.copyfile(tiny_model, model)
    db = hearth_paths().header_cache_db
    cache = HeaderCache.open(db)
    cache.read(model)  # as the library's scan does
    cache.close()
    # Where the worker's default context comes from shows which it read: this cache entry
    # says the model was trained for 8192 tokens, the file says 2048.
    with closing(sqlite3.connect(db, isolation_level=None)) as con:
        (kept,) = con.execute("SELECT header FROM headers WHERE path = ?", (str(model),)).fetchone()
        header = json.loads(kept)
        assert header["context_length"] == 2048
        header["context_length"] = 8192
        con.execute("UPDATE headers SET header = ? WHERE path = ?", (json.dumps(header), str(model)))
    client.load(LoadOptions(str(model), n_ctx=0))
    assert client.wait_loaded().n_ctx == 8192

    size = model.stat().st_size
    with model.open("r+b") as f:
        f.truncate(size // 2)
    client.load(LoadOptions(str(model), n_ctx=0))
    with pytest.raises(EngineFailure) as info:
        client.wait_loaded()
    assert "can't be used" in str(info.value) and "truncated" in str(info.value)


def test_unknown_architecture_is_named(client: EngineClient, model_cache: Callable[..., Path]) -> None:
    alien = model_cache("alien-F32.gguf", architecture="hearthnet")
    client.load(LoadOptions(str(alien)))
    with pytest.raises(EngineFailure) as info:
        client.wait_loaded()
    message = str(info.value)
    assert message.startswith("This build of llama.cpp does not know the model's architecture")
    assert "hearthnet" in message


def test_missing_file_is_reported(client: EngineClient, tmp_path: Path) -> None:
    client.load(LoadOptions(str(tmp_path / "gone.gguf")))
    with pytest.raises(EngineFailure, match="not there"):
        client.wait_loaded()


def test_a_killed_worker_is_reported_and_a_new_one_starts(client: EngineClient, tiny_model: Path) -> None:
    client.load(LoadOptions(str(tiny_model)))
    client.wait_loaded()
    first_pid = client.worker_pid
    assert first_pid is not None
    os.kill(first_pid, signal.SIGKILL)
    event = client.next_event(timeout=10)
    assert isinstance(event, EngineError) and event.kind == "crashed"
    assert "SIGKILL" in event.message
    client.load(LoadOptions(str(tiny_model)))
    client.wait_loaded()
    assert client.worker_pid not in (None, first_pid)


PARENT = """
import sys, time
from desktop.engine.client import EngineClient
from desktop.engine.protocol import LoadOptions
c = EngineClient()
c.load(LoadOptions(sys.argv[1]))
c.wait_loaded()
print(c.worker_pid, flush=True)
time.sleep(60)
"""


def test_worker_exits_when_its_parent_dies(tiny_model: Path) -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, str(tiny_model)], stdout=subprocess.PIPE, text=True
    )
    assert parent.stdout is not None
    worker_pid = int(parent.stdout.readline())
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(worker_pid, 0)
        except ProcessLookupError:
            return
        # Reap it if it is our grandchild-turned-zombie; otherwise keep waiting.
        time.sleep(0.05)
        if (
            Path(f"/proc/{worker_pid}/stat").exists()
            and " Z " in Path(f"/proc/{worker_pid}/stat").read_text()
        ):
            return
    raise AssertionError("the worker outlived its parent")


@pytest.mark.parametrize(
    ("name", "template", "why"),
    [
        ("base-F32.gguf", None, "no chat template"),
        # llama-cpp-python compiles a file's templates as it loads it: a syntax error there
        # once made the model impossible to load, though Hearth renders templates itself.
        ("unclosed-F32.gguf", "{% for m in messages %}{{ m.content }", "TemplateSyntaxError"),
    ],
)
def test_a_model_without_a_usable_template_gets_a_named_fallback(
    client: EngineClient, model_cache: Callable[..., Path], name: str, template: str | None, why: str
) -> None:
    model = model_cache(name, chat_template=template)
    rendered = client.render(str(model), [ChatMessage("user", "hi")])
    assert rendered.template_source == "fallback:chatml"
    assert rendered.prompt == "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"
    client.load(LoadOptions(str(model)))
    loaded = client.wait_loaded()
    assert loaded.template_source == "fallback:chatml"
    assert loaded.template_note and why in loaded.template_note
    stats = _collect(client, client.chat([ChatMessage("user", "hi")], Sampling(max_tokens=4)))[1]
    assert stats.completion_tokens == 4


def test_templates_render_in_a_sandbox() -> None:
    messages = [ChatMessage("system", "Be brief."), ChatMessage("user", "Hi")]
    ok = render_prompt(messages, template=CHATML_TEMPLATE, architecture="llama")
    assert (
        ok.text
        == "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
    )
    evil = "{{ ''.__class__.__mro__[1].__subclasses__() }}"
    fallback = render_prompt(messages, template=evil, architecture="gemma3", bos_token="<bos>")
    assert fallback.source == "fallback:gemma"
    assert fallback.note and "failed" in fallback.note
    assert fallback.text == "<bos><start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n<start_of_turn>model\n"
    assert "subclasses" not in fallback.text


def test_a_template_that_reads_the_first_message_is_used(
    client: EngineClient, model_cache: Callable[..., Path]
) -> None:
    strict = (
        "{% if messages[0]['role'] == 'system' %}{{ raise_exception('no system role') }}{% endif %}"
        + CHATML_TEMPLATE
    )
    model = model_cache("strict-F32.gguf", chat_template=strict)
    client.load(LoadOptions(str(model)))
    loaded = client.wait_loaded()
    assert (loaded.template_source, loaded.template_note) == ("gguf", None)
