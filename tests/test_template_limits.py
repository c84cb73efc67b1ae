"""A chat template is foreign code: its render is bounded in time and in what it builds.

Each hostile template falls back to the architecture's format with a note that says why,
quickly, through the renderer, the worker's load and ``hearth template``. The timeouts are
there so that a renderer without limits fails here rather than running for minutes.
"""

from __future__ import annotations

import json
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from desktop.engine.chat_template import render_prompt
from desktop.engine.client import EngineClient
from desktop.engine.protocol import ChatMessage, GenerationStats, LoadOptions, Sampling
from desktop.ui.shell.engine_controller import EngineState
from desktop.ui.shell.main_window import MainWindow
from tests.conftest import run_env
from tests.test_ui import open_window

__all__ = ["open_window"]  # a fixture, shared with test_ui

RENDER_SECONDS = 2.0  # the budget the issue asks for
TOO_LONG = "took too long"
TOO_LARGE = "grew too large"

HOSTILE: dict[str, tuple[str, str]] = {
    # Each range stays under Jinja's cap of 100,000 items; their product does not.
    "nested-range": (
        "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}x",
        TOO_LONG,
    ),
    # Two calls a level: Python's recursion limit is never reached, 2**60 calls are.
    "recursive-macro": (
        "{% macro f(n) %}{% if n < 60 %}{{ f(n + 1) }}{{ f(n + 1) }}{% endif %}{% endmacro %}{{ f(0) }}",
        TOO_LONG,
    ),
    "huge-multiply": ("{{ 'a' * 10**9 }}", TOO_LARGE),
    "namespace-doubling": (
        "{% set ns = namespace(s='ab') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}"
        "{{ ns.s | length }}",
        TOO_LARGE,
    ),
    "namespace-doubling-plus": (
        "{% set ns = namespace(s='ab') %}{% for i in range(40) %}{% set ns.s = ns.s + ns.s %}{% endfor %}"
        "{{ ns.s | length }}",
        TOO_LARGE,
    ),
    "center-width": ("{{ 'a' | center(1000000000) }}", TOO_LARGE),
    "center-method": ("{{ 'a'.center(1000000000) }}", TOO_LARGE),
    "format-width": ("{{ '{:>1000000000}'.format('a') }}", TOO_LARGE),
    "printf-width": ("{{ '%1000000000s' % 'a' }}", TOO_LARGE),
    "tojson-indent": ("{{ messages | tojson(indent=1000000000) }}", TOO_LARGE),
    # Each piece is under the limit; kept in a namespace, 100,000 of them are 400 GB.
    "kept-pieces": (
        "{% set ns = namespace(l=[]) %}{% for i in range(100000) %}"
        "{% set ns.l = ns.l + ['a' * 4000000] %}{% endfor %}{{ ns.l | length }}",
        TOO_LARGE,
    ),
    # Lists that share their halves: 70 levels are 2**70 items to compare, in a few KB.
    "shared-parts-compare": (
        "{% set ns = namespace(a=[0], b=[0]) %}{% for i in range(70) %}"
        "{% set ns.a = [ns.a, ns.a] %}{% set ns.b = [ns.b, ns.b] %}{% endfor %}{{ ns.a == ns.b }}",
        TOO_LARGE,
    ),
    "batch-count": ("{{ [1] | batch(1000000000, 'x') | list | length }}", TOO_LARGE),
    # Each piece is small; the macro's buffer holds 100,000 of them before it is joined.
    "macro-buffer": (
        "{% macro m() %}{% for i in range(100000) %}{{ 'a' * 1000 }}{% endfor %}{% endmacro %}{{ m() }}",
        TOO_LARGE,
    ),
}


@pytest.mark.timeout(30)
@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_a_hostile_template_falls_back_quickly_with_a_note(name: str) -> None:
    template, why = HOSTILE[name]
    start = time.monotonic()
    rendered = render_prompt([ChatMessage("user", "Hi")], template=template, architecture="llama")
    elapsed = time.monotonic() - start
    assert rendered.source == "fallback:chatml"
    assert rendered.note is not None and why in rendered.note, rendered.note
    assert rendered.note.startswith("The model's chat template")
    assert rendered.text == "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
    assert elapsed < RENDER_SECONDS + 3
    # Peak memory of this process stays far from the gigabytes the template asks for.
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss < 1024 * 1024  # KiB: 1 GiB


def test_a_real_conversation_is_not_limited_by_its_own_length() -> None:
    long = "word " * 1_000_000  # 5 MB pasted in: over the limit alone, and still rendered
    rendered = render_prompt(
        [ChatMessage("user", long)],
        template="{% for m in messages %}{{ m.role ~ ': ' ~ m.content }}{% endfor %}",
        architecture="llama",
    )
    assert rendered.source == "gguf" and rendered.text == "user: " + long


@pytest.fixture
def client():
    c = EngineClient()
    yield c
    c.shutdown(wait=False)


@pytest.mark.timeout(40)
def test_a_model_whose_template_never_ends_loads_with_the_fallback(
    client: EngineClient, model_cache: Callable[..., Path]
) -> None:
    model = model_cache("endless-F32.gguf", chat_template=HOSTILE["nested-range"][0])
    start = time.monotonic()
    client.load(LoadOptions(str(model)))
    loaded = client.wait_loaded(timeout=30)
    assert time.monotonic() - start < 15
    assert loaded.template_source == "fallback:chatml"
    assert loaded.template_note and TOO_LONG in loaded.template_note
    # Later turns go straight to the fallback: no turn waits out the budget again.
    request = client.chat([ChatMessage("user", "hi")], Sampling(max_tokens=2))
    start = time.monotonic()
    stats = list(client.stream(request, timeout=20))[-1]
    assert time.monotonic() - start < RENDER_SECONDS
    assert isinstance(stats, GenerationStats) and stats.completion_tokens == 2


@pytest.mark.timeout(60)
def test_hearth_template_prints_the_fallback_prompt_for_a_runaway_template(
    model_cache: Callable[..., Path],
) -> None:
    model = model_cache("huge-F32.gguf", chat_template=HOSTILE["huge-multiply"][0])
    endless = model_cache("endless-F32.gguf", chat_template=HOSTILE["nested-range"][0])
    for path, why in ((model, TOO_LARGE), (endless, TOO_LONG)):
        result = subprocess.run(
            [sys.executable, "-m", "desktop", "template", str(path), "--json"],
            capture_output=True,
            text=True,
            timeout=50,
            env=run_env(),
        )
        assert result.returncode == 0, result.stderr
        data = json.loads(result.stdout)
        assert data["template_source"] == "fallback:chatml"
        assert data["prompt"].endswith("<|im_start|>user\nHello!<|im_end|>\n<|im_start|>assistant\n")
        assert f"note: The model's chat template {why}" in result.stderr


@pytest.mark.timeout(60)
def test_the_window_shows_why_and_never_waits_on_a_stuck_load(
    qtbot, open_window: Callable[[], MainWindow], models_dir: Path, model_cache: Callable[..., Path]
) -> None:
    endless = model_cache("endless-F32.gguf", chat_template=HOSTILE["nested-range"][0])
    for name, source in (("a-endless-F32.gguf", endless), ("b-tiny-F32.gguf", model_cache())):
        target = models_dir / "owner" / "Tiny-GGUF" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    window = open_window()
    qtbot.waitUntil(lambda: window.library.model.rowCount() == 2)
    records = sorted(
        (r for r in (window.library.model.record(i) for i in range(2)) if r is not None),
        key=lambda r: r.path.name,
    )
    window.load_model(records[0])
    qtbot.waitUntil(lambda: window.engine.state == EngineState.READY, timeout=20_000)
    # the template's warning and the CPU-only note both show: notices stack
    [warning] = [t for t in window.chat_pane.notices.texts() if TOO_LONG in t]
    assert "chatml format" in warning and any("CPU only" in t for t in window.chat_pane.notices.texts())
    # Another model chosen while a load runs: the running one is abandoned, not queued behind.
    window.load_model(records[0])
    busy_worker = window.engine.worker_pid
    window.load_model(records[1])
    qtbot.waitUntil(lambda: window.engine.state == EngineState.READY, timeout=20_000)
    assert window.engine.model is not None and window.engine.model.model_path == str(records[1].path)
    qtbot.waitUntil(lambda: not Path(f"/proc/{busy_worker}").exists(), timeout=10_000)


@pytest.mark.timeout(90)
@pytest.mark.parametrize("command", ["run", "chat"])
def test_hearth_run_and_chat_answer_with_the_fallback_and_say_why(
    model_cache: Callable[..., Path], command: str
) -> None:
    endless = model_cache("endless-F32.gguf", chat_template=HOSTILE["nested-range"][0])
    args = ["run", str(endless), "Hello"] if command == "run" else ["chat", str(endless)]
    start = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "desktop", *args, "--max-tokens", "3"],
        input="Hello\nAgain\n" if command == "chat" else None,
        capture_output=True,
        text=True,
        timeout=80,
        env=run_env(),
    )
    assert result.returncode == 0, result.stderr
    assert f"note: The model's chat template {TOO_LONG}" in result.stderr
    assert "chatml format" in result.stderr
    assert result.stdout.strip()
    # One budget spent at the load; the turns after it use the fallback at once.
    assert time.monotonic() - start < 30


@pytest.mark.timeout(60)
def test_a_load_can_be_stopped_from_the_window(
    qtbot, open_window: Callable[[], MainWindow], models_dir: Path, model_cache: Callable[..., Path]
) -> None:
    target = models_dir / "owner" / "Tiny-GGUF" / "endless-F32.gguf"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(model_cache("endless-F32.gguf", chat_template=HOSTILE["nested-range"][0]), target)
    window = open_window()
    qtbot.waitUntil(lambda: window.library.model.rowCount() == 1)
    record = window.library.model.record(0)
    assert record is not None
    states: list[EngineState] = []
    window.engine.state_changed.connect(states.append)
    window.load_model(record)
    worker = window.engine.worker_pid
    assert states == [EngineState.LOADING] and window.menu_actions.unload.isEnabled()
    window.menu_actions.unload.trigger()
    assert states == [EngineState.LOADING, EngineState.EMPTY] and window.engine.model is None
    qtbot.waitUntil(lambda: not Path(f"/proc/{worker}").exists(), timeout=10_000)
