"""Downloads: Hearth's pull against huggingface_hub's own download, on the fake Hub, in one run.

    python -m benchmarks.download [--size-mib 1024]

Prints, for one file served from 127.0.0.1:
- `hf download` (huggingface_hub's CLI) against `hearth pull`, each a fresh process, best of 2;
- the same two in this process (hf_hub_download with local_dir against Hearth's pull());
- Hearth's transfer throughput alone (first to last byte, from its progress reports);
- a download killed at 50% and resumed: the bytes fetched twice, as a share of the file.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = "bench/Big-GGUF"
FILE = "big-Q4_K_M.gguf"


def timed(fn: object) -> float:
    start = time.perf_counter()
    fn()  # type: ignore[operator]
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mib", type=int, default=1024)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="hearth-bench-"))
    os.environ["HEARTH_HOME"] = str(home / "hearth")
    os.environ["HF_HOME"] = str(home / "hf-home")
    os.environ["HF_HUB_DISABLE_XET"] = "1"
    os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"

    from tests.fakehub import FakeHub

    hub = FakeHub().start()
    os.environ["HF_ENDPOINT"] = hub.url
    size = args.size_mib * 1024 * 1024
    hub.add_repo(REPO)
    hub.add_file(REPO, FILE, bytes(range(256)) * (size // 256))
    env = dict(os.environ)
    models = home / "hearth" / "data" / "models"

    def clean() -> None:
        shutil.rmtree(home / "hearth", ignore_errors=True)
        shutil.rmtree(home / "hf-out", ignore_errors=True)
        shutil.rmtree(home / "hf-home", ignore_errors=True)

    hf_cli = shutil.which("hf", path=str(Path(sys.executable).parent)) or "hf"
    runs: dict[str, list[float]] = {"hf download": [], "hearth pull": []}
    for _ in range(2):
        for name, argv in (
            ("hf download", [hf_cli, "download", REPO, FILE, "--local-dir", str(home / "hf-out")]),
            ("hearth pull", [sys.executable, "-m", "desktop", "pull", REPO, FILE]),
        ):
            clean()
            runs[name].append(
                timed(lambda argv=argv: subprocess.run(argv, env=env, check=True, capture_output=True))
            )
    hf_best, hearth_best = min(runs["hf download"]), min(runs["hearth pull"])
    mib = size / 1024 / 1024
    print(f"file: {mib:.0f} MiB from the fake Hub on 127.0.0.1")
    print(f"hf download (process)      {hf_best:6.2f} s  {mib / hf_best:7.1f} MiB/s")
    print(
        f"hearth pull (process)      {hearth_best:6.2f} s  {mib / hearth_best:7.1f} MiB/s"
        f"   time ratio {hearth_best / hf_best:.2f} (target <= 1.3)"
    )

    from huggingface_hub import hf_hub_download

    from desktop.hub.download import DownloadProgress, pull

    clean()
    hf_in = timed(lambda: hf_hub_download(REPO, FILE, local_dir=home / "hf-out", endpoint=hub.url))
    clean()
    hearth_in = timed(lambda: pull(REPO, FILE))
    print(f"hf_hub_download (in-process) {hf_in:6.2f} s  {mib / hf_in:7.1f} MiB/s")
    print(
        f"hearth pull() (in-process)   {hearth_in:6.2f} s  {mib / hearth_in:7.1f} MiB/s"
        f"   throughput ratio {hf_in / hearth_in:.2f} (target >= 0.95; includes Hearth's sha256 check)"
    )

    # Killed at 50%, then resumed.
    from desktop.hub.download_process import DownloadProcess

    clean()
    hub.bytes_sent.clear()
    half = [False]

    def watch(p: DownloadProgress) -> None:
        if p.done_bytes >= size // 2:
            half[0] = True

    job = DownloadProcess(REPO, FILE, on_progress=watch, on_finished=lambda outcome: None)
    while not half[0]:
        time.sleep(0.005)
    job.cancel(keep_partial=True)
    job.wait(10)
    pull(REPO, FILE)
    assert (models / REPO / FILE).stat().st_size == size
    twice = hub.bytes_sent[FILE] - size
    print(
        f"killed at 50% and resumed: {twice / 1024 / 1024:.1f} MiB fetched twice = "
        f"{twice / size * 100:.2f}% of the file (target <= 1%)"
    )
    hub.stop()
    shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
