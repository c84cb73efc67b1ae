"""``hearth --self-test``: the whole stack in one go, for installers and support.

It imports the Qt libraries the window needs (without opening one), builds a tiny model with
the tiny-model factory (or takes ``--model``), loads it in the engine worker, generates a few
tokens and prints what it found. Exit status 0 when all of it worked.
"""

from __future__ import annotations

import platform
import sys
import tempfile
from pathlib import Path
from typing import Any

TOKENS = 8


def run_self_test(model: str | None) -> dict[str, Any]:
    """Raises SelfTestFailed with what broke; returns the figures when all worked."""
    from desktop import __version__

    report: dict[str, Any] = {"version": __version__, "python": platform.python_version()}
    try:
        import PySide6
        from PySide6 import QtGui, QtWidgets  # noqa: F401  (loads Qt's libraries)

        report["qt"] = PySide6.__version__
    except ImportError as exc:
        raise SelfTestFailed(f"the Qt libraries do not load: {exc}") from exc
    from desktop.engine.client import EngineClient, EngineFailure
    from desktop.engine.protocol import ChatMessage, GenerationStats, LoadOptions, Sampling

    with tempfile.TemporaryDirectory(prefix="hearth-self-test-") as tmp:
        if model is None:
            from desktop.gguf.tiny_model import TinyModelSpec, build_tiny_model

            path = build_tiny_model(Path(tmp) / "self-test-F32.gguf", TinyModelSpec())
        else:
            path = Path(model)
        report["model"] = str(path) if model else "tiny model (built now)"
        client = EngineClient()
        try:
            client.load(LoadOptions(str(path), n_ctx=512))
            loaded = client.wait_loaded()
            request = client.chat([ChatMessage("user", "Hello")], Sampling(max_tokens=TOKENS, seed=1))
            stats = next(e for e in client.stream(request, timeout=120) if isinstance(e, GenerationStats))
        except EngineFailure as exc:
            raise SelfTestFailed(str(exc)) from exc
        finally:
            client.shutdown()
    if stats.completion_tokens < 1:
        raise SelfTestFailed("the model loaded but wrote nothing")
    report.update(
        llama_cpp=loaded.build_info,
        backend=loaded.backend,
        load_ms=round(loaded.load_ms, 1),
        tokens=stats.completion_tokens,
        gen_tps=round(stats.gen_tps, 1),
    )
    return report


class SelfTestFailed(Exception):
    pass


def print_report(report: dict[str, Any]) -> None:
    print(f"Hearth {report['version']} (Python {report['python']}, Qt {report['qt']})")
    print(f"llama.cpp: {report['llama_cpp']}")
    print(
        f"{report['model']}: loaded in {report['load_ms']:.0f} ms on the {report['backend'].upper()}, "
        f"{report['tokens']} tokens at {report['gen_tps']:.1f} tokens/s"
    )
    print("self-test passed", file=sys.stderr)
