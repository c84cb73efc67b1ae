"""Fuzzing the GGUF header parser: mutated real headers through every public reader function.

Each input is a real header (a factory-made tiny model, or the Gemma 3 270M package's) with one
mutation: bytes overwritten, a count or string length or type id set to an edge value, a cut,
a splice, or a header made up from scratch with nested arrays. Every public function of
``desktop.gguf.header`` reads it under a time limit (a timer signal) and a memory
check (tracemalloc's peak); the only outcomes allowed are a result, ``BrokenModel`` and
``NeedMoreBytes``. ``benchmarks/header_fuzz.py`` runs thousands and prints the counts;
``tests/test_gguf_fuzz.py`` runs a few hundred, seeded.
"""

from __future__ import annotations

import random
import signal
import struct
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from desktop.gguf import header as gguf_header
from desktop.gguf.header import BrokenModel, NeedMoreBytes

_SCALAR_WIDTHS = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
_EDGE_COUNTS = (
    0, 1, 2, 7, 8, 15, 16, 17, 4095, 4096, 4097, 65_535, 65_536, 65_537, 999_999, 1_000_001,
    2**31 - 1, 2**31, 2**32 - 1, 2**32, 10_000_000, 10_000_001, 2**53, 2**63 - 1, 2**63, 2**64 - 1,
)  # fmt: skip
_EDGE_TYPES = (*range(14), 255, 2**31, 2**32 - 1)


@dataclass(frozen=True)
class Base:
    """A real header to mutate: its bytes up to the tensor data, and the whole file's size."""

    name: str
    head: bytes
    file_size: int
    counts: tuple[int, ...]  # offsets of u64 counts and string lengths
    types: tuple[int, ...]  # offsets of u32 type ids and tensor dimension counts


@dataclass
class Report:
    inputs: int = 0
    calls: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)  # "function: outcome"
    strategies: Counter[str] = field(default_factory=Counter)
    findings: list[str] = field(default_factory=list)  # anything but a result or a documented error
    slowest: tuple[float, str] = (0.0, "")
    peak_bytes: int = 0
    peak_call: str = ""


def base_from_file(name: str, path: Path) -> Base:
    data = path.read_bytes() if path.stat().st_size < 64 * 1024 * 1024 else _head_of(path)
    counts: list[int] = []
    types: list[int] = []
    end = _walk(data, counts, types)
    return Base(name, data[:end], path.stat().st_size, tuple(counts), tuple(types))


def _head_of(path: Path) -> bytes:
    with path.open("rb") as f:
        size = 1024 * 1024
        while True:
            f.seek(0)
            data = f.read(size)
            try:
                _walk(data, [], [])
                return data
            except struct.error:
                size *= 2


def _walk(data: bytes, counts: list[int], types: list[int]) -> int:
    """The header's structure: where its counts and type ids are; returns where the tensor infos end."""
    pos = 8  # magic, version

    def u32() -> int:
        nonlocal pos
        types.append(pos)
        pos += 4
        return int(struct.unpack_from("<I", data, pos - 4)[0])

    def u64() -> int:
        nonlocal pos
        counts.append(pos)
        pos += 8
        return int(struct.unpack_from("<Q", data, pos - 8)[0])

    def skip(n: int) -> None:  # not `pos += u64()`: that adds to the position before the read
        nonlocal pos
        pos += n

    def value(kind: int) -> None:
        if kind in _SCALAR_WIDTHS:
            skip(_SCALAR_WIDTHS[kind])
        elif kind == 8:
            skip(u64())
        elif kind == 9:
            item, n = u32(), u64()
            if item in _SCALAR_WIDTHS:
                skip(_SCALAR_WIDTHS[item] * n)
            else:
                for _ in range(n):
                    value(item)

    n_tensors, n_kv = u64(), u64()
    for _ in range(n_kv):
        skip(u64())
        value(u32())
    for _ in range(n_tensors):
        skip(u64())
        dims = u32()
        for _ in range(dims):
            u64()
        u32()
        u64()
    struct.unpack_from("<B", data, pos - 1)  # the walk must have stayed inside the data
    return pos


def mutate(rng: random.Random, base: Base) -> tuple[str, bytes, int]:
    """One mutated header: (strategy, head bytes, the file size to pad it to)."""
    head = bytearray(base.head)
    size = base.file_size
    strategy = rng.choice(("bytes", "count", "count", "type", "cut", "splice", "made-up"))
    if strategy == "bytes":
        for _ in range(rng.randint(1, 8)):
            head[rng.randrange(4, len(head))] = rng.randrange(256)
    elif strategy == "count" and base.counts:
        at = rng.choice(base.counts)
        old = struct.unpack_from("<Q", head, at)[0]
        new = rng.choice((*_EDGE_COUNTS, old + 1, max(old - 1, 0), old * 2, len(head)))
        struct.pack_into("<Q", head, at, new % 2**64)
    elif strategy == "type" and base.types:
        struct.pack_into("<I", head, rng.choice(base.types), rng.choice(_EDGE_TYPES))
    elif strategy == "cut":
        cut = rng.randrange(0, len(head))
        del head[cut:]
        size = cut if rng.random() < 0.5 else size
    elif strategy == "splice":
        start = rng.randrange(4, len(head))
        stop = min(len(head), start + rng.choice((1, 4, 8, 12, 64, 4096)))
        if rng.random() < 0.5:
            del head[start:stop]
        else:
            head[start:start] = head[start:stop]
        size += len(head) - len(base.head)
    else:
        strategy = "made-up"
        head = bytearray(made_up_header(rng))
        size = len(head) + rng.choice((0, 32, 4096))
    return strategy, bytes(head), max(size, len(head))


def made_up_header(rng: random.Random) -> bytes:
    """A header from scratch: a few keys of every type, arrays nested up to ten deep."""

    def string(text: bytes) -> bytes:
        return struct.pack("<Q", len(text)) + text

    def value(kind: int, depth: int) -> bytes:
        if kind in _SCALAR_WIDTHS:
            return rng.randbytes(_SCALAR_WIDTHS[kind])
        if kind == 8:
            return string(rng.randbytes(rng.choice((0, 1, 5, 40))))
        item = rng.choice((4, 8, 9, 9)) if depth < 10 else 4
        n = rng.choice((0, 1, 2, 3, 17))
        return struct.pack("<IQ", item, n) + b"".join(value(item, depth + 1) for _ in range(n))

    keys = [(f"k{i}".encode(), rng.choice((*_SCALAR_WIDTHS, 8, 9, 9))) for i in range(rng.randint(0, 6))]
    alignment = rng.choice((None, 0, 1, 24, 32, 2**40, 2**64 - 1))
    body = b"".join(string(k) + struct.pack("<I", t) + value(t, 0) for k, t in keys)
    if alignment is not None:
        body += string(b"general.alignment") + struct.pack("<IQ", 10, alignment)
    n_tensors = rng.choice((0, 1))
    tensors = b""
    if n_tensors:
        tensors = string(b"t") + struct.pack("<I", 2) + struct.pack("<QQ", 4, 4) + struct.pack("<IQ", 0, 0)
    return b"GGUF" + struct.pack("<IQQ", 3, n_tensors, len(keys) + (alignment is not None)) + body + tensors


class _TooSlow(Exception):
    pass


@contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    def stop(_signum: int, _frame: FrameType | None) -> None:
        raise _TooSlow

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def readers(head: bytes, path: Path, rng: random.Random) -> list[tuple[str, Callable[[], Any]]]:
    """Every public reader of gguf_header, on one input."""
    n = rng.choice((len(head), rng.randrange(0, len(head) + 1)))
    return [
        ("read_fields", lambda: gguf_header.read_fields(head)),
        ("read_fields(part)", lambda: gguf_header.read_fields(head[:n])),
        ("read_header", lambda: gguf_header.read_header(path)),
        ("header_rows", lambda: gguf_header.header_rows(path)),
        (
            "file_type_label",
            lambda: gguf_header.file_type_label(int.from_bytes(head[-4:] or b"\0", "little")),
        ),
    ]


def fuzz(
    bases: list[Base],
    inputs: int,
    *,
    seed: int,
    folder: Path,
    time_limit_s: float = 2.0,
    memory_limit_bytes: int = 256 * 1024 * 1024,
    progress: Callable[[int], None] | None = None,
) -> Report:
    rng = random.Random(seed)
    report = Report()
    gguf_header.warm_up()  # the gguf tables' import is not the parser's time or memory
    path = folder / "fuzzed.gguf"
    tracemalloc.start()
    try:
        for i in range(inputs):
            base = bases[i % len(bases)]
            strategy, head, size = mutate(rng, base)
            with path.open("wb") as f:
                f.write(head)
                f.truncate(size)  # sparse: the tensor data is never read
            report.inputs += 1
            report.strategies[strategy] += 1
            for name, call in readers(head, path, rng):
                _one_call(
                    report, f"{base.name}#{i} {strategy} {name}", name, call, time_limit_s, memory_limit_bytes
                )
            if progress:
                progress(i)
    finally:
        tracemalloc.stop()
    return report


def _one_call(
    report: Report, label: str, name: str, call: Callable[[], Any], time_limit_s: float, memory_limit: int
) -> None:
    report.calls += 1
    tracemalloc.reset_peak()
    before = tracemalloc.get_traced_memory()[0]
    started = time.perf_counter()
    try:
        with _time_limit(time_limit_s):
            call()
        outcome = "ok"
    except (BrokenModel, NeedMoreBytes) as exc:
        outcome = type(exc).__name__
    except _TooSlow:
        outcome = "too slow"
        report.findings.append(f"{label}: over {time_limit_s} s")
    except Exception as exc:  # the finding the fuzzing is for
        outcome = f"unexpected {type(exc).__name__}"
        report.findings.append(f"{label}: {type(exc).__name__}: {exc}")
    elapsed = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] - before
    report.outcomes[f"{name}: {outcome}"] += 1
    if elapsed > report.slowest[0]:
        report.slowest = (elapsed, label)
    if peak > report.peak_bytes:
        report.peak_bytes, report.peak_call = peak, label
    if peak > memory_limit:
        report.findings.append(f"{label}: {peak:,} bytes at the peak")
