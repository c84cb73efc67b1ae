"""The command line as a Unix tool, run as real processes: a reader that stops reading, Ctrl+C,
and `hearth quantize` on a full disk (a small tmpfs)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from gguf import LlamaFileType

from desktop.chats.store import ConversationStore
from desktop.compare.quantize import least_output_bytes, partial_path, quantize
from desktop.gguf.header import read_header
from desktop.paths import hearth_paths
from tests.conftest import TEST_REPO, run_env
from tests.fakehub import FakeHub, Fault

HEARTH = [sys.executable, "-m", "desktop"]
# A reply long enough to be still streaming when the test acts on it.
LONG = ("--max-tokens", "12000")


def _start(*args: str, env: dict[str, str] | None = None, **kwargs: object) -> subprocess.Popen[bytes]:
    kwargs.setdefault("stdout", subprocess.PIPE)
    kwargs.setdefault("stderr", subprocess.PIPE)
    return subprocess.Popen([*HEARTH, *args], env=env or run_env(), **kwargs)  # type: ignore[call-overload, no-any-return]


def _closed_pipe() -> int:
    """The write end of a pipe whose reader has gone: every write to it fails with EPIPE."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    return write_end


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()  # after "pid (comm) ": state, ppid, ...


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))) and int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def _running(pid: int) -> bool:
    fields = _stat(pid)
    return fields is not None and fields[0] != "Z"


def _wait_for(what: str, check: Callable[[], object], proc: subprocess.Popen[bytes]) -> None:
    """Waits for a process to reach a state the test can see (no timing is asserted)."""
    deadline = time.monotonic() + 120
    while not check():
        if proc.poll() is not None:
            raise AssertionError(f"hearth ended ({proc.returncode}) before {what}: {proc.stderr.read()!r}")  # type: ignore[union-attr]
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)


def _read(proc: subprocess.Popen[bytes], n: int) -> bytes:
    """The first bytes of stdout, read past the pipe's Python buffer (communicate reads the pipe)."""
    assert proc.stdout is not None
    data = b""
    while len(data) < n and (piece := os.read(proc.stdout.fileno(), n - len(data))):
        data += piece
    return data


def _maps(pid: int, path: Path) -> bool:
    try:
        return str(path) in Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return False


def _interrupt(proc: subprocess.Popen[bytes]) -> tuple[bytes, str]:
    """Ctrl+C; then hearth must end by itself, and its helper processes with it."""
    helpers = _children(proc.pid)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err.decode() and "KeyboardInterrupt" not in err.decode(), err
    assert [pid for pid in helpers if _running(pid)] == [], "a helper process outlived hearth"
    return out, err.decode()


def _last_line(stderr: str) -> str:
    """The one line about the interruption (notes and a chat's greeting may come before it)."""
    lines = stderr.strip().splitlines()
    assert [ln for ln in lines if ln.startswith("error:")] == lines[-1:], stderr
    return lines[-1]


# A reader that stops reading


@pytest.fixture
def a_few_models(models_dir: Path, model_cache: Callable[..., Path]) -> list[Path]:
    made = []
    for seed in range(3):
        target = models_dir / f"tiny-{seed}-F32.gguf"
        shutil.copyfile(model_cache(f"tiny-{seed}-F32.gguf", seed=seed), target)
        made.append(target)
    return made


@pytest.mark.parametrize("buffered", [False, True], ids=["unbuffered", "buffered"])
def test_output_into_a_closed_pipe_ends_quietly(a_few_models: list[Path], buffered: bool) -> None:
    env = run_env()
    if buffered:  # the failure then comes from the interpreter's last flush
        env.pop("PYTHONUNBUFFERED", None)
    else:
        env["PYTHONUNBUFFERED"] = "1"
    for args in (("list", "--json"), ("list",), ("--help",)):
        stdout = _closed_pipe()
        try:
            result = subprocess.run(
                [*HEARTH, *args], stdout=stdout, stderr=subprocess.PIPE, env=env, timeout=120
            )
        finally:
            os.close(stdout)
        assert (result.returncode, result.stderr.decode()) == (0, ""), args


def test_a_streamed_reply_into_head_stops_the_engine_and_ends_quietly(
    model_cache: Callable[..., Path],
) -> None:
    model = model_cache("tiny-long-F32.gguf", context_length=16384)
    proc = _start("run", str(model), "Tell me a story", *LONG, "--ctx", "16384")
    assert proc.stdout is not None and proc.stderr is not None
    assert len(_read(proc, 10)) == 10  # `head -c 10`
    helpers = _children(proc.pid)
    assert helpers, "the engine worker should be running"
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 0, err
    assert "Traceback" not in err and "Error" not in err, err
    assert [pid for pid in helpers if _running(pid)] == []


def test_a_closed_stderr_silences_notes_and_progress_only(
    fake_hub: FakeHub, models_dir: Path, tiny_model: Path
) -> None:
    for args, expected in (
        (("pull", TEST_REPO, "tiny-llama-F32.gguf", "--json"), "tiny-llama-F32.gguf"),  # progress lines
        (("run", str(tiny_model), "Hi", "--max-tokens", "4", "--json"), '"completion_tokens": 4'),  # notes
    ):
        stderr = _closed_pipe()
        try:
            result = subprocess.run(
                [*HEARTH, *args], stdout=subprocess.PIPE, stderr=stderr, env=run_env(), timeout=120, text=True
            )
        finally:
            os.close(stderr)
        assert result.returncode == 0 and expected in result.stdout, args
    assert (models_dir / TEST_REPO / "tiny-llama-F32.gguf").exists()


# Ctrl+C


def test_ctrl_c_during_run_ends_with_130_and_no_engine_left(model_cache: Callable[..., Path]) -> None:
    model = model_cache("tiny-long-F32.gguf", context_length=16384)
    proc = _start("run", str(model), "Tell me a story", *LONG, "--ctx", "16384")
    _read(proc, 10)
    _out, err = _interrupt(proc)
    assert _last_line(err) == "error: interrupted"


def test_ctrl_c_during_chat_keeps_the_reply_as_far_as_it_was_shown(model_cache: Callable[..., Path]) -> None:
    model = model_cache("tiny-long-F32.gguf", context_length=16384)
    proc = _start("chat", str(model), *LONG, stdin=subprocess.PIPE)
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(b"Tell me a story\n")
    proc.stdin.flush()
    shown = _read(proc, 10)
    out, err = _interrupt(proc)
    assert _last_line(err) == "error: interrupted"
    store = ConversationStore(hearth_paths().chats_db)
    try:
        (conversation,) = store.conversations()
        reply = store.messages(conversation.id)[-1]
    finally:
        store.close()
    assert reply.role == "assistant" and reply.complete
    assert reply.content == (shown + out).decode()  # every token shown was kept, and nothing else
    assert reply.stats is not None and reply.stats["stop_reason"] == "cancelled"


def test_ctrl_c_during_pull_keeps_the_partial_file_for_a_resume(fake_hub: FakeHub, models_dir: Path) -> None:
    fake_hub.set_fault(TEST_REPO, "tiny-llama-F32.gguf", Fault(bytes_per_second=40_000))
    proc = _start("pull", TEST_REPO, "tiny-llama-F32.gguf")
    part = hearth_paths().staging_dir / TEST_REPO / "tiny-llama-F32.gguf.part"
    _wait_for("some bytes downloaded", lambda: part.exists() and part.stat().st_size > 0, proc)
    _out, err = _interrupt(proc)
    assert "goes on from where" in _last_line(err)
    kept = part.stat().st_size
    assert kept > 0 and not (models_dir / TEST_REPO / "tiny-llama-F32.gguf").exists()

    fake_hub.set_fault(TEST_REPO, "tiny-llama-F32.gguf", None)
    again = subprocess.run(
        [*HEARTH, "pull", TEST_REPO, "tiny-llama-F32.gguf"], capture_output=True, env=run_env(), timeout=120
    )
    assert again.returncode == 0, again.stderr
    assert fake_hub.ranges[-1].startswith("bytes=") and fake_hub.ranges[-1] != "bytes=0-"  # resumed
    assert (models_dir / TEST_REPO / "tiny-llama-F32.gguf").exists()


@pytest.fixture
def wide_source(models_dir: Path, model_cache: Callable[..., Path]) -> Path:
    """An F16 model big enough that quantizing it to IQ4_XS takes a few seconds."""
    built = model_cache("Wide-F16.gguf", n_embd=512, n_ff=1024, n_layer=4, file_type=LlamaFileType.MOSTLY_F16)
    source = models_dir / "wide" / built.name
    source.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(built, source)
    return source


def test_ctrl_c_during_bench_eval_and_quantize_ends_the_worker(
    wide_source: Path, models_dir: Path, tiny_model: Path, tmp_path: Path
) -> None:
    text = tmp_path / "text.txt"
    text.write_text("the quick brown fox jumps over the lazy dog and runs away " * 40_000)
    for args, working in (
        (("bench", str(tiny_model), "--reps", "100000"), tiny_model),
        (
            ("eval", str(tiny_model), "--reference", str(wide_source), "--text", str(text), "--ctx", "64"),
            wide_source,
        ),
    ):
        proc = _start(*args)
        _wait_for(
            f"the worker of `{args[0]}` to open its model",
            lambda p=proc, m=working: any(_maps(c, m) for c in _children(p.pid)),  # type: ignore[misc]
            proc,
        )
        _out, err = _interrupt(proc)
        assert _last_line(err) == "error: interrupted", args

    target = wide_source.with_name("Wide-IQ4_XS.gguf")
    proc = _start("quantize", str(wide_source), "IQ4_XS")
    _wait_for("the quantizer to start writing", partial_path(target).exists, proc)
    _out, err = _interrupt(proc)
    assert _last_line(err) == "error: interrupted"
    assert sorted(p.name for p in wide_source.parent.iterdir()) == [wide_source.name]  # nothing half-written


# `hearth quantize` on a full disk


@pytest.fixture
def small_disk(models_dir: Path, tmpfs: Callable[..., Path]) -> Callable[..., Path]:
    """A folder in the library on a file system of a given size."""
    return lambda size, read_only=False: tmpfs(models_dir / "made", size, read_only=read_only)


def quantize_cli(source: Path, kind: str, output: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*HEARTH, "quantize", str(source), kind, "--output", str(output), *extra],
        capture_output=True,
        env=run_env(),
        text=True,
        timeout=120,
    )


def _library_paths() -> list[str]:
    listed = subprocess.run(
        [*HEARTH, "list", "--json"], capture_output=True, env=run_env(), text=True, timeout=120
    )
    assert listed.returncode == 0, listed.stderr
    return [row["path"] for row in json.loads(listed.stdout)]


def test_quantize_refuses_a_folder_that_cannot_take_it_before_writing(
    wide_source: Path, small_disk: Callable[..., Path]
) -> None:
    made = small_disk(1024 * 1024)
    result = quantize_cli(wide_source, "Q8_0", made / "Wide-Q8_0.gguf")
    assert result.returncode == 1 and result.stdout == ""
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: Not enough disk space:") and "needs at least" in line, line
    assert list(made.iterdir()) == []


def test_quantize_on_a_disk_that_fills_up_says_so_and_keeps_nothing(
    wide_source: Path, small_disk: Callable[..., Path], tmp_path: Path
) -> None:
    # Room for the least the output can take but not for the whole of it, so the check before
    # passes and the quantizer's write fails part-way.
    least = least_output_bytes(read_header(wide_source).parameters, "Q4_K_M")
    whole = tmp_path / "Wide-Q4_K_M.gguf"
    quantize(wide_source, whole, "Q4_K_M", threads=2)
    assert whole.stat().st_size > least + 256 * 1024
    made = small_disk((least + whole.stat().st_size) // 2)

    result = quantize_cli(wide_source, "Q4_K_M", made / whole.name, "--json")
    assert result.returncode == 1 and result.stdout == ""
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: The disk is full:") and whole.name in line, line
    assert list(made.iterdir()) == []  # the half-written output is gone
    assert not any(path.startswith(str(made)) for path in _library_paths())


def test_quantize_into_a_read_only_folder_says_so(wide_source: Path, small_disk: Callable[..., Path]) -> None:
    made = small_disk(64 * 1024 * 1024, read_only=True)
    result = quantize_cli(wide_source, "Q8_0", made / "Wide-Q8_0.gguf")
    assert result.returncode == 1
    assert result.stderr == f"error: {made} cannot be written to; write the quant to another folder.\n"
