"""A large chat history: searching it, opening its longest conversation, scrolling that conversation.

    QT_QPA_PLATFORM=offscreen python -m benchmarks.chat_history [--fresh] [--repeats 5]

Builds 100,000 messages in 2,000 conversations (one of 1,000 messages on screen, with ten
older versions of replies beside it; the rest about 49 each) in a ConversationStore, with
the full-text index filled by its own triggers. Text is 40–120 words a message from a
vocabulary of 3,000 words (Zipf-distributed), some replies with fenced code blocks. The
built database is kept in the temp folder under a version string, so a rerun starts at once.

Measures, against the targets:
- search: ConversationStore.search for 20 queries (common, mid and rare words, two words,
  three words, a word in no message), each run a few times: each query's median under 100 ms;
- open: a fresh ConversationStore's messages() + branching() for the 1,000-message
  conversation, and the whole open with ChatTranscript.show_messages and one
  processEvents(): median under 200 ms (medians: a shared machine's stalls do not decide);
- scroll, one step a frame from a 16 ms timer, each step the scroll bar's setValue and a
  synchronous viewport().repaint(): paging up from the end to the very top (earlier messages
  load on the way if the transcript renders lazily), then top to bottom in 50 steps. "Smooth"
  when the steps' 95th percentile is under 16 ms and the largest step, and the event loop's
  longest stall meanwhile, under 50 ms.

PySide6 6.12.0 under Python 3.11 drops a reference to None on every void call; the run
detects it, says so and props None up so that it can finish.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

# Bump when the generated history changes, so a cached database is rebuilt.
VERSION = "chat-history-v2"
CONVERSATIONS = 2_000
TOTAL_MESSAGES = 100_000
LONG_ON_SCREEN = 1_000
LONG_OLDER_VERSIONS = 10  # regenerated replies in the long conversation, off the branch on screen
VOCABULARY = 3_000
SEED = 20_240_601

SEARCH_TARGET_MS = 100.0
OPEN_TARGET_MS = 200.0
FRAME_MS = 16.0
SCROLL_MAX_MS = 50.0

_COMMON_TEXT = """
the of and to a in is it that for you this with on as be are not or can if your
at by from have an but use will which more when one what all there so would how
model file memory run was has they its should also time into like then than just
about make first other these only some new could need each way may two data used
any because most over where same example code function value number set see here
error question answer text line list type return output input version between back
system context token tokens prompt reply chat conversation layer weight weights
quantisation quantized gpu cpu thread threads cache batch size speed load loading
download library folder path window button setting settings result results test
python rust build install package module class object string array loop index key
write read open close start stop change changes check note problem issue reason fix
"""


def _vocabulary(rng: random.Random) -> list[str]:
    """Real words first (the most frequent ranks), then made-up words to fill the rest."""
    words: list[str] = list(dict.fromkeys(_COMMON_TEXT.split()))
    seen = set(words)
    onsets = ["b", "c", "d", "f", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "st", "tr"]
    nuclei = ["a", "e", "i", "o", "u", "ai", "ou", "ea"]
    codas = ["", "n", "r", "s", "l", "t", "m", "nd", "st"]
    while len(words) < VOCABULARY:
        word = "".join(
            rng.choice(onsets) + rng.choice(nuclei) + rng.choice(codas) for _ in range(rng.randint(2, 3))
        )
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words


class TextMaker:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.words = _vocabulary(rng)
        weights = [1.0 / (rank + 1) ** 1.05 for rank in range(len(self.words))]
        total = 0.0
        self.cum: list[float] = []
        for w in weights:
            total += w
            self.cum.append(total)

    def prose(self, low: int, high: int) -> str:
        words = self.rng.choices(self.words, cum_weights=self.cum, k=self.rng.randint(low, high))
        sentences: list[str] = []
        start = 0
        while start < len(words):
            end = min(len(words), start + self.rng.randint(6, 18))
            sentence = " ".join(words[start:end])
            sentences.append(sentence[:1].upper() + sentence[1:] + ".")
            start = end
        return " ".join(sentences)

    def code(self) -> str:
        a, b, c, d = self.rng.choices(self.words[100:1500], k=4)
        return (
            "```python\n"
            f"def {a}_{b}(items, limit=10):\n"
            f"    result = []\n"
            f"    for item in items:\n"
            f"        if item.{c} and len(result) < limit:\n"
            f"            result.append(item.{d})\n"
            f"    return result\n"
            "```"
        )

    def message(self, role: str) -> str:
        if role == "user":
            return self.prose(40, 80)
        if self.rng.random() < 0.15:
            return f"{self.prose(25, 60)}\n\n{self.code()}\n\n{self.prose(15, 40)}"
        return (
            self.prose(40, 120)
            if self.rng.random() < 0.7
            else self.prose(30, 60) + "\n\n" + self.prose(20, 60)
        )


def _sizes(rng: random.Random) -> list[int]:
    """Message counts of the 2,000 conversations; the first is the long one."""
    long_total = LONG_ON_SCREEN + LONG_OLDER_VERSIONS
    rest = CONVERSATIONS - 1
    base, extra = divmod(TOTAL_MESSAGES - long_total, rest)
    sizes = [base + (1 if i < extra else 0) for i in range(rest)]
    for i in range(0, rest - 1, 2):  # vary the lengths, keeping the total
        shift = rng.randint(0, 40)
        sizes[i] += shift
        sizes[i + 1] -= shift
    return [long_total, *sizes]


def build_history(path: Path) -> int:
    """Fills a new store at ``path``; returns the long conversation's id."""
    from desktop.chats.store import ConversationStore, title_from

    rng = random.Random(SEED)
    maker = TextMaker(rng)
    store = ConversationStore(path)
    db = store._db
    start_day = datetime(2025, 1, 1, tzinfo=UTC)
    message_id = 0
    conversation_rows: list[tuple[Any, ...]] = []
    message_rows: list[tuple[Any, ...]] = []

    def stamp(when: datetime) -> str:
        return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")

    sizes = _sizes(rng)
    long_id = 1
    for number, size in enumerate(sizes, start=1):
        when = start_day + timedelta(minutes=rng.randint(0, 60 * 24 * 500))
        model = rng.choice(["gemma-3-4b-it-Q4_K_M.gguf", "Qwen3-8B-Q4_K_M.gguf", "Llama-3.2-3B-Q8_0.gguf"])
        parent: int | None = None
        title = "New chat"
        older_left = LONG_OLDER_VERSIONS if number == long_id else 0
        spacing = max(2, LONG_ON_SCREEN // (LONG_OLDER_VERSIONS + 1))
        turn = 0
        written = 0
        while written < size:
            role = "user" if turn % 2 == 0 else "assistant"
            when += timedelta(seconds=rng.randint(5, 300))
            content = maker.message(role)
            if title == "New chat" and role == "user":
                title = title_from(content)
            stats = (
                json.dumps(
                    {
                        "completion_tokens": len(content.split()) * 4 // 3,
                        "ttft_ms": round(rng.uniform(80, 900), 1),
                        "gen_tps": round(rng.uniform(8, 60), 1),
                        "stop_reason": "stop",
                    }
                )
                if role == "assistant"
                else None
            )
            if role == "assistant" and older_left and turn % spacing == spacing - 1:
                # An older version of this reply: a sibling that is not on screen.
                message_id += 1
                message_rows.append(
                    (message_id, number, role, maker.message(role), stamp(when), model, stats, 1, parent)
                )
                older_left -= 1
                written += 1
                when += timedelta(seconds=rng.randint(5, 60))
            message_id += 1
            message_rows.append(
                (message_id, number, role, content, stamp(when), model if role == "assistant" else None,
                 stats, 1, parent)
            )  # fmt: skip
            parent = message_id
            written += 1
            turn += 1
        conversation_rows.append((number, title, model, stamp(start_day), stamp(when), parent))

    with store._db.transaction() as tx:
        tx.executemany(
            "INSERT INTO conversations (id, title, model, created, updated, leaf_id) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            conversation_rows,
        )
        tx.executemany(
            "INSERT INTO messages (id, conversation_id, role, content, created, model, stats, complete, "
            "parent_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            message_rows,
        )
    db.execute("PRAGMA optimize")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    return long_id


def history_path(fresh: bool) -> tuple[Path, float | None]:
    """The cached database (built first if needed) and how long building took (None: cached)."""
    folder = Path(tempfile.gettempdir()) / f"hearth-bench-{VERSION}"
    path = folder / "chats.sqlite3"
    if fresh:
        shutil.rmtree(folder, ignore_errors=True)
    if path.is_file():
        return path, None
    folder.mkdir(parents=True, exist_ok=True)
    building = folder / "building.sqlite3"
    for leftover in folder.glob("building.sqlite3*"):
        leftover.unlink()
    start = time.perf_counter()
    build_history(building)
    took = time.perf_counter() - start
    building.rename(path)  # only a finished build is ever reused
    return path, took


# Measuring


@dataclass
class Timing:
    label: str
    runs_ms: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.runs_ms)

    @property
    def worst(self) -> float:
        return max(self.runs_ms)


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter_ns()
    fn()
    return (time.perf_counter_ns() - start) / 1e6


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round((len(ordered) - 1) * p / 100))]


def queries(words: list[str]) -> list[str]:
    """Twenty searches from the vocabulary's frequency ranks: common to rare, one to three words."""
    w = words
    return [
        w[0],  # "the": in nearly every message
        w[5],
        w[30],
        w[120],
        w[400],
        w[900],
        w[1800],
        w[2700],  # rare
        w[2999],  # rarest
        "zqxjvw",  # in no message
        f"{w[2]} {w[40]}",
        f"{w[60]} {w[90]}",
        f"{w[10]} {w[2500]}",
        f"{w[1500]} {w[2600]}",
        f"{w[1]} {w[3]} {w[50]}",
        f"{w[200]} {w[300]} {w[700]}",
        f"{w[20]} {w[1000]} {w[2900]}",
        "python def return",  # words of the code blocks
        "result append item",
        "memory model context",
    ]


def measure_search(path: Path, words: list[str], repeats: int) -> list[tuple[str, int, Timing]]:
    from desktop.chats.store import ConversationStore, fts_query

    store = ConversationStore(path)
    results: list[tuple[str, int, Timing]] = []
    try:
        for query in queries(words):
            matches = int(
                store._db.execute(
                    "SELECT COUNT(*) FROM messages_fts WHERE messages_fts MATCH ?", (fts_query(query),)
                ).fetchone()[0]
            )
            runs = [timed(partial(store.search, query)) for _ in range(repeats)]
            results.append((query, matches, Timing(query, runs)))
    finally:
        store.close()
    return results


def measure_store_open(path: Path, conversation_id: int, repeats: int) -> tuple[Timing, Timing, int]:
    """A fresh store's messages() + branching(); and the store's construction, apart."""
    from desktop.chats.store import ConversationStore

    opens: list[float] = []
    reads: list[float] = []
    shown = 0
    for _ in range(repeats):
        start = time.perf_counter_ns()
        store = ConversationStore(path)
        opened = time.perf_counter_ns()
        messages = store.messages(conversation_id)
        store.branching(conversation_id)
        done = time.perf_counter_ns()
        store.close()
        opens.append((opened - start) / 1e6)
        reads.append((done - opened) / 1e6)
        shown = len(messages)
    return Timing("store", opens), Timing("messages+branching", reads), shown


def _scroll_area(widget: Any) -> Any:
    """The widget's own scroll area, or its largest scrollable child (the view is being reworked)."""
    from PySide6.QtWidgets import QAbstractScrollArea

    if isinstance(widget, QAbstractScrollArea):
        return widget
    areas = widget.findChildren(QAbstractScrollArea)
    return max(areas, key=lambda a: a.verticalScrollBar().maximum(), default=None)


@dataclass
class ScrollResult:
    up_ms: list[float]  # page-up steps from the end to the top (earlier messages may load on the way)
    up_loads: int  # steps during which the document grew
    up_stall_ms: int  # the event loop's longest gap meanwhile (lazy layout included)
    all_shown: bool  # whether the conversation's first message was on screen at the top
    down_ms: list[float]  # 50 steps from top to bottom
    down_stall_ms: int
    scroll_range: int


@dataclass
class RenderResult:
    cold_open_ms: float  # the process's first transcript open (fonts, caches), for information
    open_ms: Timing  # store + show_messages + one processEvents
    show_ms: Timing  # show_messages + processEvents alone
    settle_ms: list[float]  # until the scroll range stopped changing (lazy layout), from the open's start
    scroll: ScrollResult | None  # None: the transcript has no scroll area
    used_branching: bool


def _render_once(
    path: Path, conversation_id: int, app: Any, passes_branching: bool
) -> tuple[Any, float, float, float]:
    from desktop.chats.store import ConversationStore
    from desktop.ui.chat.transcript import ChatTranscript

    transcript = ChatTranscript()
    transcript.resize(900, 700)
    transcript.show()
    app.processEvents()
    start = time.perf_counter_ns()
    store = ConversationStore(path)
    messages = store.messages(conversation_id)
    branching = store.branching(conversation_id)
    stored = time.perf_counter_ns()
    if passes_branching:
        transcript.show_messages(messages, branching=branching)
    else:
        transcript.show_messages(messages)
    app.processEvents()
    shown = time.perf_counter_ns()
    store.close()
    # Some layouts finish lazily, on later turns of the event loop: wait for the range to settle.
    area = _scroll_area(transcript)
    last, steady, settle_end = -1, 0, shown
    deadline = time.perf_counter() + 10
    while area is not None and steady < 5 and time.perf_counter() < deadline:
        app.processEvents()
        value = area.verticalScrollBar().maximum()
        if value != last:
            last, steady, settle_end = value, 0, time.perf_counter_ns()
        else:
            steady += 1
            time.sleep(0.01)
    return transcript, (shown - start) / 1e6, (shown - stored) / 1e6, (settle_end - start) / 1e6


def _ticking(app: Any, tick: Callable[[], bool], limit_s: float = 120.0) -> int:
    """Runs ``tick`` every 16 ms in the event loop until it returns False; the loop's longest stall."""
    from PySide6.QtCore import QEventLoop, QTimer

    from benchmarks.stall_probe import StallProbe

    loop = QEventLoop()
    timer = QTimer()
    timer.setInterval(16)

    def on_tick() -> None:
        if not tick():
            timer.stop()
            loop.quit()

    timer.timeout.connect(on_tick)
    probe = StallProbe()
    probe.start()
    timer.start()
    QTimer.singleShot(int(limit_s * 1000), loop.quit)
    loop.exec()
    probe.stop()
    timer.stop()
    return probe.largest_ms


def _scroll(app: Any, area: Any, first_words: str) -> ScrollResult:
    """Like a person paging up to the start, then dragging the bar down: one step a frame (16 ms).

    Each step is the scroll bar's setValue and a synchronous repaint of the viewport; the event
    loop runs between steps, so lazy layout and loading earlier messages happen as they would.
    """
    bar = area.verticalScrollBar()
    viewport = area.viewport()

    def move_to(value: int) -> float:
        def move() -> None:
            bar.setValue(value)
            viewport.repaint()

        return timed(move)

    bar.setValue(bar.maximum())
    viewport.repaint()
    up: list[float] = []
    loads = [0]
    at_top = [0]

    def up_tick() -> bool:
        if bar.value() <= bar.minimum():
            at_top[0] += 1  # wait a moment at the top: anything still loading may move it
            return at_top[0] < 30
        at_top[0] = 0
        before = bar.maximum()
        up.append(move_to(max(bar.minimum(), bar.value() - bar.pageStep())))
        loads[0] += bar.maximum() > before
        return len(up) < 10_000

    up_stall = _ticking(app, up_tick)
    all_shown = first_words in _document_text(area)
    down: list[float] = []

    def down_tick() -> bool:
        down.append(move_to(bar.minimum() + (bar.maximum() - bar.minimum()) * (len(down) + 1) // 50))
        return len(down) < 50

    bar.setValue(bar.minimum())
    viewport.repaint()
    down_stall = _ticking(app, down_tick)
    return ScrollResult(up, loads[0], up_stall, all_shown, down, down_stall, bar.maximum() - bar.minimum())


def _document_text(area: Any) -> str:
    text = getattr(area, "toPlainText", None)
    return str(text()) if callable(text) else ""


def guard_none_refcount() -> bool:
    """Whether this PySide6 drops a reference to None on each call of a void method.

    PySide6 6.12.0 does under Python 3.11 (from 3.12 None is immortal and it does no harm): after
    a few thousand such calls None is deallocated and the process aborts ("none_dealloc").
    When so, None is given a million references that are never released, so the run finishes.
    """
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QScrollBar

    bar = QScrollBar(Qt.Orientation.Vertical)
    bar.setRange(0, 100)
    before = sys.getrefcount(None)
    for value in range(100):
        bar.setValue(value)
    leaking = sys.getrefcount(None) < before - 50
    if leaking:
        import ctypes

        ctypes.c_ssize_t.from_address(id(None)).value += 1_000_000  # ob_refcnt, the first field
    return leaking


def measure_render(path: Path, conversation_id: int, warm_up_id: int, repeats: int) -> RenderResult:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6 import __version__ as pyside_version
    from PySide6.QtWidgets import QApplication

    from desktop.chats.store import ConversationStore
    from desktop.ui.chat.transcript import ChatTranscript

    app = QApplication.instance() or QApplication([])
    if guard_none_refcount():
        print(
            f"WARNING: PySide6 {pyside_version} under Python {sys.version.split()[0]} releases None once "
            "per void call (Hearth would abort after a few thousand); None is propped up for this run."
        )
    passes_branching = "branching" in inspect.signature(ChatTranscript.show_messages).parameters
    # The first open in a process also loads fonts and fills caches; the app pays that once,
    # for whatever it shows first. It is printed apart, from a short conversation.
    first, cold_ms, _show, _settle = _render_once(path, warm_up_id, app, passes_branching)
    first.close()
    first.deleteLater()
    opens: list[float] = []
    shows: list[float] = []
    settles: list[float] = []
    transcript: Any = None
    for _ in range(repeats):
        if transcript is not None:
            transcript.close()
            transcript.deleteLater()
            app.processEvents()
        transcript, open_ms, show_ms, settle_ms = _render_once(path, conversation_id, app, passes_branching)
        opens.append(open_ms)
        shows.append(show_ms)
        settles.append(settle_ms)
    store = ConversationStore(path)
    first_words = " ".join(store.messages(conversation_id)[0].content.split()[:6])
    store.close()
    area = _scroll_area(transcript)
    scroll = _scroll(app, area, first_words) if area is not None else None
    transcript.close()
    return RenderResult(
        cold_ms, Timing("open", opens), Timing("show", shows), settles, scroll, passes_branching
    )


def profile(label: str, fn: Callable[[], object], lines: int = 12) -> None:
    import cProfile
    import io
    import pstats

    profiler = cProfile.Profile()
    profiler.runcall(fn)
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(lines)
    print(f"--- cProfile: {label}")
    print("\n".join(line for line in out.getvalue().splitlines() if line.strip()))


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def _smooth(steps: list[float], stall_ms: int) -> tuple[bool, str]:
    if not steps:
        return False, "no steps"
    p95 = percentile(steps, 95)
    largest = max(steps)
    ok = p95 < FRAME_MS and largest < SCROLL_MAX_MS and stall_ms < SCROLL_MAX_MS
    return ok, (
        f"median {statistics.median(steps):.1f} ms, p95 {p95:.1f} ms, max {largest:.1f} ms, "
        f"stall {stall_ms} ms -> {'smooth' if ok else 'NOT smooth'}"
    )


def report_render(render: RenderResult, verdicts: list[tuple[str, bool]]) -> None:
    kw = ", branching=…" if render.used_branching else ""
    print(f"open + render with ChatTranscript.show_messages(messages{kw}) + processEvents()")
    print(
        f"  first open in the process (a short chat; fonts, caches) {render.cold_open_ms:.1f} ms (not judged)"
    )
    print(
        f"  whole open (store + render)    median {render.open_ms.median:7.1f} ms, "
        f"max {render.open_ms.worst:7.1f} ms (target: median < {OPEN_TARGET_MS:.0f})"
    )
    print(
        f"  of which show_messages + paint median {render.show_ms.median:7.1f} ms, "
        f"max {render.show_ms.worst:7.1f} ms"
    )
    print(
        f"  scroll range steady after      median {statistics.median(render.settle_ms):7.1f} ms, "
        f"max {max(render.settle_ms):7.1f} ms (lazy layout, if any)"
    )
    verdicts.append(("open with rendering < 200 ms", render.open_ms.median < OPEN_TARGET_MS))
    print()
    scroll = render.scroll
    if scroll is None:
        print("scroll: the transcript has no scroll area to step")
        verdicts.append(("scrolling smooth", False))
        return
    print(
        "scroll, one step a frame (16 ms timer), each step setValue + viewport().repaint(); "
        f"smooth: p95 < {FRAME_MS:.0f} ms, max and event-loop stall < {SCROLL_MAX_MS:.0f} ms"
    )
    up_ok, up_line = _smooth(scroll.up_ms, scroll.up_stall_ms)
    print(
        f"  page up from the end to the top: {len(scroll.up_ms)} steps, {scroll.up_loads} of them "
        f"growing the document: {up_line}"
    )
    slowest = sorted(scroll.up_ms, reverse=True)[:8]
    print(f"    slowest steps: {', '.join(f'{ms:.0f}' for ms in slowest)} ms")
    if not scroll.all_shown:
        print("    at the top, the conversation's first message was NOT in the transcript")
    down_ok, down_line = _smooth(scroll.down_ms, scroll.down_stall_ms)
    print(f"  top to bottom in 50 steps over {scroll.scroll_range:,} px: {down_line}")
    verdicts.append(("scrolling smooth, top to bottom", down_ok))
    verdicts.append(("scrolling smooth, paging up through the whole chat", up_ok and scroll.all_shown))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--fresh", action="store_true", help="rebuild the cached history")
    parser.add_argument("--repeats", type=int, default=5, help="runs of each measurement")
    parser.add_argument("--no-render", action="store_true", help="measure the store only")
    parser.add_argument("--profile", action="store_true", help="cProfile the slowest search and the open")
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    path, built_s = history_path(args.fresh)
    words = _vocabulary(random.Random(SEED))  # the same first draws as the build
    long_id, short_id = 1, 2
    size_mb = path.stat().st_size / 1e6
    how = f"built in {built_s:.1f} s" if built_s is not None else "cached"
    print(f"history: {path} ({size_mb:.0f} MB, {how})")
    print(
        f"  {CONVERSATIONS:,} conversations, {TOTAL_MESSAGES:,} messages; the long one: "
        f"{LONG_ON_SCREEN:,} on screen + {LONG_OLDER_VERSIONS} older versions"
    )
    verdicts: list[tuple[str, bool]] = []

    print()
    print(f"search ({args.repeats} runs each; target: every query's median < {SEARCH_TARGET_MS:.0f} ms)")
    print(f"  {'query':40} {'matches':>8} {'median':>9} {'max':>9}")
    results = measure_search(path, words, args.repeats)
    for query, matches, timing in results:
        print(f"  {query[:40]:40} {matches:8,} {timing.median:7.1f}ms {timing.worst:7.1f}ms")
    all_runs = [ms for _q, _m, t in results for ms in t.runs_ms]
    worst_query = max(results, key=lambda r: r[2].median)[0]
    search_ok = all(t.median < SEARCH_TARGET_MS for _q, _m, t in results)
    print(
        f"  all queries: median {statistics.median(all_runs):.1f} ms, p95 {percentile(all_runs, 95):.1f} ms, "
        f"max {max(all_runs):.1f} ms; slowest query {worst_query!r} -> {_verdict(search_ok)}"
    )
    verdicts.append(("search < 100 ms", search_ok))

    print()
    store_t, read_t, shown = measure_store_open(path, long_id, args.repeats)
    print(f"open the long conversation from a fresh ConversationStore ({shown:,} messages on screen)")
    print(f"  ConversationStore(path)        median {store_t.median:7.1f} ms, max {store_t.worst:7.1f} ms")
    print(f"  messages() + branching()       median {read_t.median:7.1f} ms, max {read_t.worst:7.1f} ms")
    verdicts.append(("open, store part < 200 ms", store_t.median + read_t.median < OPEN_TARGET_MS))

    if args.profile:
        from desktop.chats.store import ConversationStore

        store = ConversationStore(path)
        print()
        profile(f"search({worst_query!r})", lambda: store.search(worst_query))
        profile("messages() + branching()", lambda: (store.messages(long_id), store.branching(long_id)))
        store.close()

    if not args.no_render:
        print()
        try:
            render = measure_render(path, long_id, short_id, max(3, args.repeats))
        except Exception:
            traceback.print_exc()
            print("  rendering FAILED (see above)")
            verdicts.append(("open with rendering < 200 ms", False))
            verdicts.append(("scrolling smooth", False))
        else:
            report_render(render, verdicts)

    print()
    for name, ok in verdicts:
        print(f"{_verdict(ok)}  {name}")
    sys.exit(0 if all(ok for _n, ok in verdicts) else 1)


if __name__ == "__main__":
    main()
