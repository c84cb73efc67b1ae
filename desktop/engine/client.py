"""The client side of the inference worker, shared by the GUI, the CLI and the benchmarks.

Events arrive on a queue, in order; when the worker dies the client puts one
``EngineError(kind="crashed")`` there with what is known of why, and the next ``load``
starts a new worker.
"""

from __future__ import annotations

import itertools
import queue
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

from desktop.childproc import ChildProcess, describe_exit
from desktop.engine.llama_log import last_words
from desktop.engine.protocol import (
    ENGINE_SUBCOMMAND,
    Cancel,
    ChatMessage,
    ChatRequest,
    EmbedRequest,
    EngineError,
    EngineEvent,
    GenerationStats,
    LoadOptions,
    ModelLoaded,
    Rendered,
    RenderRequest,
    Sampling,
    Shutdown,
    TaskDone,
    TaskProgress,
    TaskRequest,
    TokenEvent,
    Unload,
    command_to_dict,
    event_from_dict,
)

T = TypeVar("T")
RENDER_WAIT_S = 30.0
# How a process dies of its own fault (SIGKILL and SIGTERM come from outside it).
_CRASH_SIGNALS = {signal.SIGABRT, signal.SIGSEGV, signal.SIGBUS, signal.SIGFPE, signal.SIGILL}


class EngineClient:
    def __init__(self) -> None:
        self._child: ChildProcess | None = None
        self._events: queue.Queue[EngineEvent] = queue.Queue()
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._closed: set[ChildProcess] = set()  # workers ended on purpose: their exit is no crash
        self._loading = False  # a load was asked for and has not answered yet
        self.loaded: ModelLoaded | None = None

    @property
    def worker_pid(self) -> int | None:
        return self._child.pid if self._child else None

    def _ensure_worker(self) -> ChildProcess:
        with self._lock:
            if self._child is None or self._child.poll() is not None:
                child = ChildProcess(ENGINE_SUBCOMMAND)
                self._child = child
                threading.Thread(target=self._pump, args=(child,), daemon=True).start()
            return self._child

    def _pump(self, child: ChildProcess) -> None:
        for raw in child.events():
            if child in self._closed:
                continue  # a worker being ended: what it still says is for nobody
            event = event_from_dict(raw)
            if isinstance(event, ModelLoaded):
                self.loaded = event
            if isinstance(event, ModelLoaded) or (isinstance(event, EngineError) and event.kind == "load"):
                self._loading = False
            self._events.put(event)
        code = child.wait()
        if self._child is child:
            self.loaded = None
        if child in self._closed:
            self._closed.discard(child)
        else:
            self._events.put(EngineError(self._crash_message(code, child), kind="crashed"))

    def _crash_message(self, code: int | None, child: ChildProcess) -> str:
        message = f"The engine process {describe_exit(code)}"
        # An abort (a failed GGML_ASSERT, say) prints its reason to stderr just before.
        tail = child.stderr_tail()
        words = last_words(tail)
        if words:
            message += f"; llama.cpp's last words: {words}"
        elif tail:
            message += f" ({tail[-1].strip()})"
        loading, self._loading = self._loading, False
        if loading and code is not None and -code in _CRASH_SIGNALS:
            message += (
                ". It happened while loading the model: the file may be damaged, or made for "
                "another version of llama.cpp; try another download of it"
            )
        return message + "."

    # Commands

    def load(self, options: LoadOptions) -> None:
        self._loading = True
        self._ensure_worker().send(command_to_dict(options))

    def chat(
        self,
        messages: Sequence[ChatMessage],
        sampling: Sampling | None = None,
        *,
        context_policy: str = "stop",
        mode: str = "chat",
        stop: Sequence[str] = (),
    ) -> str:
        request = ChatRequest(
            f"r{next(self._ids)}", list(messages), sampling or Sampling(), context_policy, mode, tuple(stop)
        )
        child = self._child
        if child is None or not child.send(command_to_dict(request)):
            self._events.put(
                EngineError("No model is loaded.", kind="generate", request_id=request.request_id)
            )
        return request.request_id

    def embed(self, texts: Sequence[str], *, truncate: bool = True) -> str:
        """Asks for the loaded model's embeddings of ``texts``; an Embeddings event answers."""
        request = EmbedRequest(f"r{next(self._ids)}", list(texts), truncate)
        child = self._child
        if child is None or not child.send(command_to_dict(request)):
            self._events.put(EngineError("No model is loaded.", kind="embed", request_id=request.request_id))
        return request.request_id

    def render(
        self, model_path: str, messages: Sequence[ChatMessage], add_generation_prompt: bool = True
    ) -> Rendered:
        """Blocking: the prompt text ``messages`` become for this model (its vocabulary only is read)."""
        command = RenderRequest(model_path, list(messages), add_generation_prompt)
        self._ensure_worker().send(command_to_dict(command))
        # Reading a vocabulary takes a second or two; a template's render is cut at 2 s.
        return self._wait_for(Rendered, RENDER_WAIT_S)

    def start_task(self, kind: str, **payload: object) -> str:
        """Starts a task registered with the worker (``desktop.compare.tasks``: eval, quantize, bench)."""
        request_id = f"t{next(self._ids)}"
        self._ensure_worker().send(command_to_dict(TaskRequest(request_id, kind, dict(payload))))
        return request_id

    def cancel(self, request_id: str) -> None:
        if self._child is not None:
            self._child.send(command_to_dict(Cancel(request_id)))

    def unload(self) -> None:
        if self._child is not None:
            self._child.send(command_to_dict(Unload()))

    def kill(self) -> None:
        """End the worker at once (used by tests and when loading must be abandoned)."""
        if self._child is not None:
            self._child.kill()

    def shutdown(self, timeout: float = 3.0, *, wait: bool = True) -> None:
        """Ends the worker. ``wait=False`` returns at once (the GUI thread must not wait for a
        process to free a model's memory) and reaps it on a thread; the next command starts a
        new worker either way."""
        child = self._child
        if child is None:
            return
        self._closed.add(child)
        child.send(command_to_dict(Shutdown()))
        if wait:
            child.close(timeout)
        else:
            threading.Thread(target=child.close, args=(timeout,), daemon=True, name="engine-close").start()
        self._child = None
        self.loaded = None

    # Events

    def next_event(self, timeout: float | None = None) -> EngineEvent | None:
        try:
            return self._events.get(timeout=timeout)
        except queue.Empty:
            return None

    def wait_loaded(self, timeout: float = 120.0) -> ModelLoaded:
        """Blocking helper for the CLI and tests: the load's outcome, or EngineFailure."""
        return self._wait_for(ModelLoaded, timeout)

    def _wait_for(self, wanted: type[T], timeout: float) -> T:
        """The next event of one kind; an error or silence becomes EngineFailure."""
        while True:
            event = self.next_event(timeout)
            if event is None:
                raise EngineFailure("The engine did not answer in time.")
            if isinstance(event, wanted):
                return event
            if isinstance(event, EngineError):
                raise EngineFailure(event.message)

    def stream(
        self, request_id: str, timeout: float = 300.0, *, on_idle: Callable[[], None] | None = None
    ) -> Iterator[TokenEvent | GenerationStats]:
        """Blocking helper: the tokens of one request, then its stats.

        ``on_idle`` is called after each half second without an event (to save what arrived).
        """
        silent = 0.0
        while True:
            event = self.next_event(0.5 if on_idle else timeout)
            if event is None and on_idle is not None and silent < timeout:
                silent += 0.5
                on_idle()
                continue
            if event is None:
                raise EngineFailure("The engine did not answer in time.")
            silent = 0.0
            if isinstance(event, TokenEvent) and event.request_id == request_id:
                yield event
            elif isinstance(event, GenerationStats) and event.request_id == request_id:
                yield event
                return
            elif isinstance(event, EngineError):
                raise EngineFailure(event.message)

    def task_events(self, request_id: str, timeout: float = 3600.0) -> Iterator[TaskProgress | TaskDone]:
        """Blocking helper: a task's progress, then its outcome; an error becomes EngineFailure."""
        while True:
            event = self.next_event(timeout)
            if event is None:
                raise EngineFailure("The engine did not answer in time.")
            if isinstance(event, TaskProgress) and event.request_id == request_id:
                yield event
            elif isinstance(event, TaskDone) and event.request_id == request_id:
                yield event
                return
            elif isinstance(event, EngineError) and event.request_id in (request_id, None):
                raise EngineFailure(event.message)


class EngineFailure(Exception):
    """A load or generation that failed, with a message fit to show as it is."""
