"""The window while its server streams to four clients at once: the longest the GUI thread went
without a turn (issue 19's target: under 50 ms).

    QT_QPA_PLATFORM=offscreen python -m benchmarks.server_gui_stall

The Gemma 3 270M package model is in the library and loaded in the window; the Server page
switches the server on; four threads with the official ``openai`` client each stream a reply of
64 tokens from that model (the window's own worker answers them in turn, the GUI thread lending
it and passing each token on). A 1 ms timer on the GUI thread measures the gaps between its ticks
from the first request to the last reply.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import threading
import time
from pathlib import Path

CLIENTS = int(os.environ.get("STALL_CLIENTS", "4"))
TOKENS = 64


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    home = Path(tempfile.mkdtemp(prefix="hearth-server-stall-"))
    os.environ["HEARTH_HOME"] = str(home)
    from benchmarks.real_model import gemma_model

    models = home / "data" / "models" / "google" / "gemma-3-270m"
    models.mkdir(parents=True)
    source = gemma_model(home / "cache")
    shutil.copyfile(source, models / source.name)

    import openai
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from benchmarks.stall_probe import StallProbe
    from desktop.server.run import start_in_background
    from desktop.ui.shell.app import create_application, create_main_window
    from desktop.ui.shell.engine_controller import EngineState

    create_application([])
    window = create_main_window(start_in_background)
    window.first_run.finish()
    window.show()

    def wait(condition: object, seconds: float = 60.0) -> None:
        deadline = time.monotonic() + seconds
        while not condition() and time.monotonic() < deadline:  # type: ignore[operator]
            QApplication.processEvents()
            time.sleep(0.005)

    wait(lambda: window.library.model.rowCount() == 1)
    record = window.library.model.record(0)
    assert record is not None
    window.load_model(record)
    wait(lambda: window.engine.state == EngineState.READY)
    page = window.open_server()
    assert page is not None
    page.port.setValue(_free_port())
    page.switch.click()
    assert window.server is not None and window.server.running is not None
    url = window.server.running.url

    done: list[int] = []
    errors: list[str] = []

    def stream() -> None:
        client = openai.OpenAI(base_url=url + "/v1", api_key="unused", max_retries=0, timeout=300)
        try:
            chunks = client.chat.completions.create(
                model=record.id,
                messages=[{"role": "user", "content": "Tell me about the sea."}],
                max_tokens=TOKENS,
                stream=True,
                stream_options={"include_usage": True},
            )
            usage = [c.usage.completion_tokens for c in chunks if c.usage is not None]
            done.append(usage[-1] if usage else 0)
            print(f"a stream ended {time.perf_counter() - started:.1f} s after the first request", flush=True)
        except Exception as exc:
            errors.append(str(exc))

    probe = StallProbe()
    probe.start()
    started = time.perf_counter()
    for _ in range(CLIENTS):
        threading.Thread(target=stream, daemon=True).start()
    loop = QEventLoop()
    QTimer.singleShot(300_000, loop.quit)  # a stuck stream ends the run rather than hanging it
    ender = QTimer()
    ender.setInterval(10)
    ender.timeout.connect(lambda: loop.quit() if len(done) + len(errors) == CLIENTS else None)
    ender.start()
    loop.exec()
    elapsed = time.perf_counter() - started
    probe.stop()
    window.server.stop()
    window.close()
    shutil.rmtree(home, ignore_errors=True)
    tokens = sum(done)
    rate = tokens / elapsed
    print(f"{len(done)} of {CLIENTS} streams completed: {tokens} tokens in {elapsed:.1f} s, {rate:.1f} tok/s")
    if errors:
        print("errors: " + "; ".join(errors))
    print(f"largest GUI stall {probe.largest_ms} ms (target < 50); 99th percentile {probe.p99_ms} ms")


if __name__ == "__main__":
    main()
