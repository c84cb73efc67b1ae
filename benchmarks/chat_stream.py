"""The GUI thread while a reply streams at the model's full speed, and the speed the GUI sees.

    QT_QPA_PLATFORM=offscreen python -m benchmarks.chat_stream [--model PATH] [--tokens N]

The real window loads a model in its worker and streams a reply into the chat pane
(Markdown re-rendered as it grows) while a 1 ms timer on the GUI thread measures the
longest gap between its ticks (target: under 50 ms). Two runs: the Gemma 3 270M package
model (or ``--model``) at its real speed, and a tiny factory model that streams thousands
of tokens a second, the hardest case for the window.

Speed: the tokens per second the pane shows under the reply are the engine's own figure
(llama.cpp's decode timing). Printed beside it: the rate at which the worker produced the
tokens (first to last, sampling and detokenizing included) and the rate at which they
arrived in the GUI (first to last token event, through the worker pipe and the signals).
Target: the GUI receives them within 3% of the worker's rate, so the window never holds the
engine back. The gap between the worker's rate and the decode timing is sampling, measured
and worked on in the engine's own benchmarks.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from benchmarks.real_model import gemma_model

PROMPT = (
    "Write a long, detailed story about a lighthouse keeper who finds a message in a bottle. "
    "Use several paragraphs, some dialogue, and a short Python snippet the keeper writes to log the tides."
)


def run(model: Path, tokens: int, label: str) -> tuple[bool, bool]:
    os.environ["HEARTH_HOME"] = tempfile.mkdtemp(prefix="hearth-stream-")
    from PySide6.QtCore import QElapsedTimer
    from PySide6.QtWidgets import QApplication

    from benchmarks.stall_probe import StallProbe
    from desktop.engine.protocol import GenerationStats, LoadOptions
    from desktop.ui.shell.app import create_application, create_main_window
    from desktop.ui.shell.engine_controller import EngineState

    app = create_application([])
    window = create_main_window()
    window.first_run.finish()  # past the first run: the window's pages
    window.resize(1280, 800)
    window.show()

    def spin_until(condition: object, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            app.processEvents()
            if callable(condition) and condition():
                return True
            time.sleep(0.002)
        return False

    window.engine.load(LoadOptions(str(model), n_ctx=4096))
    if not spin_until(lambda: window.engine.state == EngineState.READY, 120):
        print(f"{label}: the model did not load")
        return False, False
    settings = window.chat.settings
    window.chat.update_settings(
        "", replace(settings, sampling={"max_tokens": tokens, "temperature": 0.8, "seed": 3})
    )

    clock = QElapsedTimer()
    clock.start()
    arrivals: list[int] = []
    finished: list[GenerationStats] = []
    window.engine.token.connect(lambda _rid, _text: arrivals.append(clock.nsecsElapsed()))
    window.engine.finished.connect(finished.append)
    probe = StallProbe()
    probe.start()
    window.chat.send(PROMPT)
    done = spin_until(lambda: bool(finished) and not window.chat.busy, 600)
    probe.stop()
    for _ in range(5):
        app.processEvents()
    window.close()
    QApplication.processEvents()
    if not done or not arrivals:
        print(f"{label}: the reply did not finish ({len(arrivals)} token events)")
        return False, False
    stats = finished[-1]
    if len(arrivals) < 20:
        # The worker sends text every 50 ms at most (engine/worker.py EVENT_INTERVAL_S): a fast
        # model's whole reply comes in a few events, too few to time arrival by. The stall is
        # what this run is for.
        print(f"{label}: {stats.completion_tokens} tokens in {len(arrivals)} token events")
        print(f"  largest GUI stall {probe.largest_ms} ms (target < 50); 99th percentile {probe.p99_ms} ms")
        print("  (too few events to time their arrival: the worker batches them every 50 ms)")
        return probe.largest_ms < 50, True
    span_s = (arrivals[-1] - arrivals[0]) / 1e9
    # Tokens after the first, over the time between the first and the last arrival.
    gui_tps = (stats.completion_tokens - 1) / span_s if span_s > 0 else 0.0
    ratio = gui_tps / stats.gen_tps if stats.gen_tps else 0.0
    transport = gui_tps / stats.wall_tps if stats.wall_tps else 0.0
    stall_ok = probe.largest_ms < 50
    speed_ok = transport >= 0.97
    print(f"{label}: {stats.completion_tokens} tokens, {len(arrivals)} token events")
    print(f"  largest GUI stall {probe.largest_ms} ms (target < 50); 99th percentile {probe.p99_ms} ms")
    print(
        f"  llama.cpp's decode timing (shown under the reply) {stats.gen_tps:.1f} tok/s; the worker "
        f"produced {stats.wall_tps:.1f} tok/s (with sampling and detokenizing); arrived in the GUI at "
        f"{gui_tps:.1f} tok/s"
    )
    print(
        f"  GUI arrival / worker's rate {transport:.3f} (target >= 0.97: the window never holds the engine "
        f"back); GUI arrival / decode timing {ratio:.3f}"
    )
    return stall_ok, speed_ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, help="a GGUF (default: the Gemma 3 270M package model)")
    parser.add_argument("--tokens", type=int, default=300, help="reply length for the real model")
    parser.add_argument("--tiny-tokens", type=int, default=1500, help="reply length for the factory model")
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    work = Path(tempfile.mkdtemp(prefix="hearth-stream-models-"))
    try:
        from desktop.gguf.tiny_model import TinyModelSpec, build_tiny_model

        real = args.model or gemma_model(work)
        tiny = build_tiny_model(work / "tiny-F32.gguf", TinyModelSpec(context_length=4096))
        results = [
            run(real, args.tokens, f"{real.name} (real speed)"),
            run(tiny, args.tiny_tokens, "factory model (thousands of tokens/s)"),
        ]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    stall_ok = all(r[0] for r in results)
    speed_ok = results[0][1]  # the 3% target is about a real model's speed
    print(
        f"GUI stall target {'met' if stall_ok else 'MISSED'}; speed target {'met' if speed_ok else 'MISSED'}"
    )
    return 0 if stall_ok and speed_ok else 1


if __name__ == "__main__":
    sys.exit(main())
