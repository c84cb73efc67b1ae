"""The inference worker: a process that owns one ``llama_cpp.Llama``.

It takes commands on stdin and streams events back (see ``desktop.childproc``). A crash
here ends this process only; the GUI reports it and keeps the conversation. Cancels are
read on their own thread, so one takes effect before the next token.
"""

from __future__ import annotations

import codecs
import os
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from desktop.childproc import Event, ParentLink
from desktop.engine import heap_limit, native, tool_calls
from desktop.engine.chat_template import RenderedPrompt, build_prompt, render_prompt
from desktop.engine.devices import load_backends
from desktop.engine.embedder import MAX_SEQUENCES, Embedder, EmbeddingError
from desktop.engine.hardware import peak_rss_bytes, physical_cores, reset_peak_rss
from desktop.engine.llama_log import LlamaLog
from desktop.engine.llama_setup import backend_name, load_progress, model_header, new_llama, system_info
from desktop.engine.protocol import (
    ALL_GPU_LAYERS,
    AUTO_GPU_LAYERS,
    ENGINE_SUBCOMMAND,
    KV_TYPES,
    Cancel,
    ChatMessage,
    ChatRequest,
    Embeddings,
    EmbedRequest,
    EngineError,
    EngineEvent,
    GenerationStats,
    LoadOptions,
    ModelLoaded,
    Rendered,
    RenderRequest,
    Shutdown,
    TaskDone,
    TaskProgress,
    TaskRequest,
    TokenEvent,
    ToolCall,
    Unload,
    Unloaded,
    command_from_dict,
    event_to_dict,
)
from desktop.engine.stop_filter import StopFilter
from desktop.engine.tasks import TaskContext, TaskFailed, TaskTable
from desktop.gguf.fit import ModelShape, auto_context, plan_offload, retry_layers, system_memory_bytes
from desktop.gguf.header import BrokenModel
from desktop.gguf.names import own_name
from desktop.gguf.reasoning import MARKERS
from desktop.gguf.sampling import recommended_sampling
from desktop.units import format_bytes

SUBCOMMAND = ENGINE_SUBCOMMAND
DEFAULT_MAX_CTX = 4096
# Text is sent at once when the last send is this old, else gathered until it is: the
# window redraws a streaming reply every 60 ms anyway, and each event wakes the GUI process
# while llama.cpp's threads want both cores of a small machine (token by token, that cost
# Gemma 3 270M's generation about a tenth on 2 cores: benchmarks/engine_overhead.py).
EVENT_INTERVAL_S = 0.05


@dataclass
class _Loaded:
    llm: Any
    options: LoadOptions
    info: ModelLoaded
    template: str | None
    embedder: Embedder | None = None  # made at the first request for embeddings

    def close(self) -> None:
        if self.embedder is not None:
            self.embedder.close()
        self.llm.close()


_GGML_TYPES = {"f16": 1, "q4_0": 2, "q8_0": 8}  # ggml_type values for the KV cache
_DOING = {
    "load": "loading the model",
    "generate": "writing a reply",
    "eval": "evaluating",
    "quantize": "quantizing",
    "bench": "measuring speed",
}


class Worker:
    def __init__(self, emit: Any, tasks: TaskTable | None = None) -> None:
        self._emit = emit
        self._tasks: TaskTable = tasks or {}
        self._loaded: _Loaded | None = None
        self._cancelled: set[str] = set()
        self._cancel_lock = threading.Lock()
        self._log = LlamaLog()
        self._log.install()
        # One handler per command record: a command is parsed once, then dispatched by type.
        self._handlers: dict[type[Any], Callable[[Any], None]] = {
            LoadOptions: self.load,
            ChatRequest: self.chat,
            RenderRequest: self.render,
            TaskRequest: self.task,
            EmbedRequest: self.embed,
            Cancel: lambda command: self.cancel(command.request_id),
            Unload: self._unload_and_say,
        }

    def cancel(self, request_id: str) -> None:
        with self._cancel_lock:
            self._cancelled.add(request_id)

    def _is_cancelled(self, request_id: str) -> bool:
        with self._cancel_lock:
            return request_id in self._cancelled

    def send(self, event: EngineEvent) -> None:
        self._emit(event_to_dict(event))

    def handle(self, message: Event) -> bool:
        """Returns False when the worker should exit."""
        try:
            command = command_from_dict(message)
        except ValueError as exc:
            self.send(EngineError(str(exc), kind="protocol"))
            return True
        if isinstance(command, Shutdown):
            return False
        try:
            self._handlers[type(command)](command)
        except Exception as exc:  # report, never die silently
            stage = (
                "load"
                if isinstance(command, LoadOptions)
                else command.kind
                if isinstance(command, TaskRequest)
                else "generate"
            )
            message_text = (
                heap_limit.out_of_memory_message(_DOING.get(stage, "working"))
                if isinstance(exc, MemoryError)
                else f"{type(exc).__name__}: {exc}"
            )
            request_id = getattr(command, "request_id", None)
            self.send(EngineError(message_text, kind=stage, request_id=request_id))
        return True

    def _unload_and_say(self, _command: Unload) -> None:
        self.unload()
        self.send(Unloaded())

    def unload(self) -> None:
        if self._loaded is not None:
            self._loaded.close()
            self._loaded = None

    def load(self, options: LoadOptions) -> None:
        self.unload()
        reset_peak_rss()
        if not Path(options.model_path).is_file():
            self.send(EngineError(f"The model file is not there: {options.model_path}", kind="load"))
            return
        start = time.perf_counter()
        load_backends()  # before the GPU question below: a loadable-module build has none yet
        try:
            # The header first: a clear reason for a broken file, before llama.cpp sees it.
            header = model_header(Path(options.model_path))
        except BrokenModel as exc:
            self.send(EngineError(f"This model file can't be used: {exc}.", kind="load"))
            return
        shape = ModelShape.from_fields(header.fields)
        total_layers = (shape.layers if shape else header.block_count or 0) + 1
        # The weights, near enough: this file's tensor data times its number of shards.
        weights = header.data_end * max(1, header.split_count)
        trained = header.context_length or DEFAULT_MAX_CTX
        n_ctx = (
            options.n_ctx
            if options.n_ctx > 0
            else auto_context(weights, shape, trained, system_memory_bytes())
        )
        layers, note = self._gpu_layers(options, weights, shape, n_ctx, total_layers)
        kv_type = options.kv_type if options.kv_type in KV_TYPES else "f16"
        kwargs: dict[str, Any] = {
            "model_path": options.model_path,
            "n_ctx": n_ctx,
            "n_threads": options.n_threads or physical_cores(),
            "n_threads_batch": options.n_threads or physical_cores(),
            "n_batch": options.n_batch,
            "n_ubatch": min(options.n_ubatch, options.n_batch),
            "flash_attn": options.flash_attn,
            "use_mmap": options.use_mmap,
            "use_mlock": options.use_mlock,
            "verbose": False,
        }
        if kv_type != "f16":
            kwargs["type_k"] = _GGML_TYPES[kv_type]
            # llama.cpp quantises the V cache only with flash attention.
            if options.flash_attn:
                kwargs["type_v"] = _GGML_TYPES[kv_type]
        while True:
            self._log.clear()
            try:
                with load_progress(self.send):
                    llm = new_llama(n_gpu_layers=layers, **kwargs)
                break
            except (ValueError, RuntimeError, OSError) as exc:
                if kv_type != "f16":
                    # Some models cannot use a quantised cache (heads not a whole number of blocks).
                    note = (
                        f"A {kv_type} KV cache does not work with this model "
                        f"({self._log.explain(str(exc))}); loaded with f16."
                    )
                    kv_type = "f16"
                    kwargs.pop("type_k", None)
                    kwargs.pop("type_v", None)
                    continue
                if layers != 0:
                    # Most often the GPU ran out of memory: fewer layers, then the CPU.
                    fewer = retry_layers(total_layers if layers < 0 else layers)
                    note = (
                        f"Loading with {'all' if layers < 0 else layers} layers on the GPU failed "
                        f"({self._log.explain(str(exc))}); "
                        + (
                            f"loaded with {fewer} layers on the GPU instead."
                            if fewer
                            else "loaded on the CPU instead."
                        )
                    )
                    layers = fewer
                    continue
                message = self._log.explain(f"llama.cpp could not load this model: {exc}")
                self.send(EngineError(message, kind="load"))
                return
        load_ms = (time.perf_counter() - start) * 1000
        metadata: dict[str, str] = dict(llm.metadata or {})
        template = metadata.get("tokenizer.chat_template") or None
        architecture = metadata.get("general.architecture")
        # A one-message probe: some templates refuse an empty conversation or a system turn.
        probe = render_prompt([ChatMessage("user", "Hello")], template=template, architecture=architecture)
        info = ModelLoaded(
            model_path=options.model_path,
            architecture=architecture,
            load_ms=load_ms,
            n_ctx=int(llm.n_ctx()),
            gpu_layers=layers,
            backend=backend_name() if layers else "cpu",
            template_source=probe.source,
            template_note=probe.note,
            has_chat_template=template is not None,
            model_name=own_name(metadata.get("general.name")),
            recommended_sampling=recommended_sampling(metadata),
            n_threads=int(kwargs["n_threads"]),
            n_batch=int(llm.n_batch),
            n_ubatch=int(kwargs["n_ubatch"]),
            flash_attn=options.flash_attn,
            kv_type=kv_type,
            use_mmap=options.use_mmap,
            use_mlock=options.use_mlock,
            total_layers=total_layers,
            load_note=note,
            build_info=system_info(),
        )
        self._loaded = _Loaded(llm, options, info, template)
        self.send(info)

    @staticmethod
    def _gpu_layers(
        options: LoadOptions, weights_bytes: int, shape: ModelShape | None, n_ctx: int, total: int
    ) -> tuple[int, str | None]:
        """The n_gpu_layers to load with, and what was decided, in words."""
        import llama_cpp

        wanted = options.n_gpu_layers
        if wanted == 0:
            return 0, None
        if not llama_cpp.llama_supports_gpu_offload():
            return 0, "This llama.cpp build runs on the CPU only (no CUDA, Vulkan or Metal)."
        if wanted != AUTO_GPU_LAYERS:
            return (total if wanted == ALL_GPU_LAYERS else min(wanted, total)), None
        from desktop.engine.devices import list_devices

        free = max((d.memory_free_bytes for d in list_devices() if d.type in ("gpu", "igpu")), default=0)
        if shape is None or free <= 0:
            return 0, "No GPU memory was found: the model runs on the CPU."
        plan = plan_offload(weights_bytes, shape, n_ctx, free, options.kv_type)
        return plan.layers, f"{plan.reason} ({format_bytes(plan.gpu_bytes)} of {format_bytes(free)} free)."

    def render(self, command: RenderRequest) -> None:
        """The prompt a conversation becomes, from the model's vocabulary alone (no weights loaded)."""
        path = command.model_path
        try:
            model_header(Path(path))
            llm = new_llama(model_path=path, vocab_only=True, verbose=False)
        except (BrokenModel, ValueError, RuntimeError, OSError) as exc:
            self.send(EngineError(f"This model file can't be used: {exc}", kind="load"))
            return
        try:
            metadata: dict[str, str] = dict(llm.metadata or {})
            prompt, add_bos = build_prompt(
                llm,
                metadata.get("tokenizer.chat_template") or None,
                metadata.get("general.architecture"),
                command.messages,
                command.add_generation_prompt,
            )
        finally:
            llm.close()
        self.send(Rendered(prompt.text, prompt.source, add_bos, prompt.note))

    def embed(self, request: EmbedRequest) -> None:
        """The texts' embeddings from the loaded model, by a context of their own (the chat's KV
        cache is left as it is)."""
        loaded = self._loaded
        if loaded is None:
            self.send(EngineError("No model is loaded.", kind="embed", request_id=request.request_id))
            return
        try:
            if loaded.embedder is None:
                metadata: dict[str, str] = dict(loaded.llm.metadata or {})
                threads = loaded.info.n_threads or physical_cores()
                loaded.embedder = Embedder(loaded.llm, threads, metadata, loaded.info.architecture)
            embedder = loaded.embedder
            texts = [embedder.tokens(text, request.truncate) for text in request.texts]
            vectors: list[list[float]] = []
            for start in range(0, len(texts), MAX_SEQUENCES):  # a cancel is seen between batches
                if self._is_cancelled(request.request_id):
                    raise EmbeddingError("cancelled", "cancelled")
                vectors += embedder.embed(texts[start : start + MAX_SEQUENCES])
        except EmbeddingError as exc:
            self.send(EngineError(str(exc), kind=exc.kind, request_id=request.request_id))
            return
        finally:
            with self._cancel_lock:
                self._cancelled.discard(request.request_id)
        self.send(Embeddings(request.request_id, vectors, sum(map(len, texts)), embedder.pooling))

    def task(self, command: TaskRequest) -> None:
        """A registered long task, with progress events, then TaskDone or an error."""
        request_id, kind = command.request_id, command.kind
        runner = self._tasks.get(kind)
        if runner is None:
            self.send(EngineError(f"unknown task {kind!r}", kind="protocol", request_id=request_id))
            return

        def progress(stage: str, fraction: float) -> None:
            self.send(TaskProgress(request_id, stage, round(fraction, 4)))

        self.unload()  # the chat model's memory goes to the task
        load_backends()
        context = TaskContext(progress, lambda: self._is_cancelled(request_id), self._log, self._bench_load)
        try:
            result = runner(command.params, context)
        except TaskFailed as exc:
            self.send(EngineError(str(exc), kind=kind, request_id=request_id))
            return
        finally:
            with self._cancel_lock:
                self._cancelled.discard(request_id)
        from desktop.engine.devices import list_devices

        devices = [
            f"{d.backend} {d.description or d.name} ({format_bytes(d.memory_total_bytes)})"
            for d in list_devices()
        ]
        self.send(TaskDone(request_id, kind, {**result, "build_info": system_info(), "devices": devices}))

    def _bench_load(self, options: LoadOptions) -> tuple[Any, ModelLoaded]:
        self.load(options)
        if self._loaded is None:
            raise RuntimeError("the model did not load")  # load() has said why
        return self._loaded.llm, self._loaded.info

    def _tokens(
        self, loaded: _Loaded, messages: list[ChatMessage], request: ChatRequest
    ) -> tuple[list[int], RenderedPrompt, str]:
        """The prompt's tokens and text, and the form tool calls take in it (tool_calls.GENERIC
        when the template knows no tools, or failed with them and a fallback wrote the prompt)."""
        llm = loaded.llm
        if request.mode == "complete":
            # Notebook: the text is continued as it stands; no template, no special tokens parsed.
            prompt = RenderedPrompt("".join(m.content for m in messages), "none", (), None)
            return llm.tokenize(prompt.text.encode("utf-8"), add_bos=True, special=False), prompt, ""
        use = tool_calls.tool_use(request.sampling)
        offered = use if use is not None and use.active else None
        fmt = tool_calls.format_for(loaded.template)
        if fmt != tool_calls.GENERIC:
            tools = offered.tools if offered is not None else None
            prompt, add_bos = build_prompt(
                llm, loaded.template, loaded.info.architecture, messages, tools=tools
            )
            uses_tools = offered is not None or any(m.role == "tool" or m.tool_calls for m in messages)
            if prompt.source == "gguf" or not uses_tools:
                return llm.tokenize(prompt.text.encode("utf-8"), add_bos=add_bos, special=True), prompt, fmt
            fmt = tool_calls.GENERIC
        generic = tool_calls.generic_messages(messages, offered)
        prompt, add_bos = build_prompt(llm, loaded.template, loaded.info.architecture, generic)
        return llm.tokenize(prompt.text.encode("utf-8"), add_bos=add_bos, special=True), prompt, fmt

    def _fit_context(
        self, loaded: _Loaded, request: ChatRequest
    ) -> tuple[list[int], RenderedPrompt, int, str] | EngineError:
        """The prompt's tokens, leaving out the oldest turns if the policy allows and it must."""
        n_ctx = int(loaded.llm.n_ctx())
        messages = list(request.messages)
        tokens, prompt, fmt = self._tokens(loaded, messages, request)
        dropped = 0
        if request.context_policy == "drop_oldest":
            room = min(request.sampling.max_tokens, max(16, n_ctx // 4))  # left for the reply
            if request.mode == "complete" and len(tokens) + room > n_ctx:
                dropped = len(tokens) - (n_ctx - room)
                tokens = (
                    tokens[:1] + tokens[dropped + 1 :]
                    if loaded.llm.token_bos() == tokens[0]
                    else tokens[dropped:]
                )
            while request.mode != "complete" and len(tokens) + room > n_ctx:
                turns = [i for i, m in enumerate(messages) if m.role != "system"]
                if len(turns) <= 1:
                    break  # the newest message alone is kept whatever its length
                first = turns[0]
                count = 2 if len(turns) > 2 and messages[turns[1]].role == "assistant" else 1
                del messages[first : first + count]
                dropped += count
                tokens, prompt, fmt = self._tokens(loaded, messages, request)
        if len(tokens) >= n_ctx:
            advice = (
                "Shorten the message or load the model with a larger context."
                if request.context_policy == "drop_oldest"
                else "Start a new chat, choose to drop the oldest turns in the chat's settings, "
                "or load the model with a larger context."
            )
            return EngineError(
                f"The conversation ({len(tokens):,} tokens) does not fit the context "
                f"({n_ctx:,} tokens). {advice}",
                kind="context",
                request_id=request.request_id,
            )
        return tokens, prompt, dropped, fmt

    def chat(self, request: ChatRequest) -> None:
        import llama_cpp

        loaded = self._loaded
        if loaded is None:
            self.send(EngineError("No model is loaded.", kind="generate", request_id=request.request_id))
            return
        llm = loaded.llm
        fitted = self._fit_context(loaded, request)
        if isinstance(fitted, EngineError):
            self.send(fitted)
            return
        tokens, prompt, dropped, fmt = fitted
        use = tool_calls.tool_use(request.sampling) if request.mode == "chat" else None
        calling = use is not None and use.active
        # The words before a call are streamed; the call itself (and a reply whose form shows
        # only at its end) is held back and comes parsed with the reply's figures.
        opening = tool_calls.stream_opening(fmt) if calling else None
        gate = StopFilter((opening,)) if opening else None
        held = calling and gate is None
        shown = ""  # what the stream has been given, for what is still owed it at the end
        n_ctx = int(llm.n_ctx())
        max_new = min(request.sampling.max_tokens, n_ctx - len(tokens))

        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        stops = StopFilter(prompt.stop_strings + request.stop)
        pieces: list[str] = []
        opened = _opened_thinking(prompt.text) if request.mode == "chat" else None
        if opened:
            # The template opened the thinking block: the reply starts inside it.
            pieces.append(opened)
            self.send(TokenEvent(request.request_id, opened))
        produced = 0
        stop_reason = "length" if max_new == request.sampling.max_tokens else "context"
        ttft_ms = 0.0
        first_at = last_at = 0.0
        unsent, sent_at = "", 0.0  # text not yet sent, and when text last was
        vocab = llama_cpp.llama_model_get_vocab(llm.model)
        text_of = native.Pieces(llm, special=gate is not None)
        llama_cpp.llama_perf_context_reset(llm.ctx)
        start = time.perf_counter()
        tool_grammar = tool_calls.grammar(fmt, use) if calling and use is not None else None
        with native.SamplerChain(llm, request.sampling, tool_grammar) as sampler:
            try:
                cached = native.decode_prompt(llm, tokens, lambda: self._is_cancelled(request.request_id))
            except native.Cancelled:
                cached, stop_reason = 0, "cancelled"
            sampler.remember(tokens)
            for token in native.generate(llm, sampler) if stop_reason != "cancelled" else ():
                now = time.perf_counter()
                if produced == 0:
                    ttft_ms = (now - start) * 1000
                    first_at = now
                last_at = now
                if self._is_cancelled(request.request_id):
                    stop_reason = "cancelled"
                    break
                if llama_cpp.llama_vocab_is_eog(vocab, token):
                    stop_reason = "stop"
                    break
                produced += 1
                text = stops.feed(decoder.decode(text_of(token)))
                if text:
                    pieces.append(text)
                    if gate is not None:
                        text = "" if gate.stopped else gate.feed(text)
                    if not held:
                        unsent += text
                        shown += text
                    if unsent and now - sent_at >= EVENT_INTERVAL_S:
                        self.send(TokenEvent(request.request_id, unsent))
                        unsent, sent_at = "", now
                if stops.stopped:
                    stop_reason = "stop"
                    break
                if produced >= max_new:
                    break
        tail = stops.feed(decoder.decode(b"", final=True)) + ("" if stops.stopped else stops.flush())
        if tail:
            pieces.append(tail)
        reply = "".join(pieces)
        calls: tuple[ToolCall, ...] = ()
        if calling:
            words, calls = tool_calls.parse_reply(fmt, reply)
            reply = words if calls or fmt == tool_calls.GENERIC else reply
            # The words the stream still owes: all of a reply held to its end, what waited on
            # a marker that began no call; nothing of the calls themselves.
            tail = reply[len(shown) :] if reply.startswith(shown) else ""
        if unsent + tail:
            self.send(TokenEvent(request.request_id, unsent + tail))
        perf = llama_cpp.llama_perf_context(llm.ctx)
        with self._cancel_lock:
            self._cancelled.discard(request.request_id)
        self.send(
            GenerationStats(
                request_id=request.request_id,
                text=reply,
                stop_reason=stop_reason,
                prompt_tokens=len(tokens),
                completion_tokens=produced,
                ttft_ms=ttft_ms,
                prompt_tps=(perf.n_p_eval * 1000 / perf.t_p_eval_ms) if perf.t_p_eval_ms > 0 else 0.0,
                gen_tps=(perf.n_eval * 1000 / perf.t_eval_ms) if perf.t_eval_ms > 0 else 0.0,
                n_ctx=n_ctx,
                dropped_messages=dropped,
                cached_tokens=cached,
                wall_tps=(produced - 1) / (last_at - first_at)
                if produced > 1 and last_at > first_at
                else 0.0,
                peak_rss_bytes=peak_rss_bytes(),
                tool_calls=calls,
            )
        )
        if request.mode == "chat" and stop_reason in ("stop", "length") and not dropped and not calling:
            self._prepare_next_turn(loaded, request.messages, "".join(pieces))

    def _prepare_next_turn(self, loaded: _Loaded, messages: list[ChatMessage], reply: str) -> None:
        """While the person reads and types, decodes what the next prompt will surely start with.

        That is this reply as the template writes it back (its last token was sampled, never
        decoded) and the markers that close it and open the next user turn. The next turn's
        time to first token then stays close to the first turn's.
        """
        llm = loaded.llm
        rendered = []
        for probe in ("a", "b"):  # two different next questions: what they share is certain
            follow = [*messages, ChatMessage("assistant", reply), ChatMessage("user", probe)]
            rendered.append(build_prompt(llm, loaded.template, loaded.info.architecture, follow))
        (first, add_bos), (second, _) = rendered
        shared = _common_prefix(first.text, second.text)
        tokens = llm.tokenize(first.text[:shared].encode("utf-8"), add_bos=add_bos, special=True)
        tokens = tokens[:-1]  # the last may merge with the question's first characters
        cached = native.cached_prefix(llm, tokens)
        if cached == 0 or len(tokens) <= cached or len(tokens) >= int(llm.n_ctx()):
            return
        try:
            native.decode_prompt(llm, tokens)
        except Exception:  # an optimisation only: the next turn decodes it all if this fails
            llm.reset()


def _common_prefix(a: Sequence[object], b: Sequence[object]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def _opened_thinking(prompt: str) -> str | None:
    """The opening marker a generation prompt ends with (DeepSeek-R1's ``<think>\n``), if any."""
    tail = prompt.rstrip()
    for opening, _closing in MARKERS:
        if tail.endswith(opening):
            return opening + "\n"
    return None


def worker_main(tasks: TaskTable | None = None) -> int:
    """The worker process's loop; ``tasks``: the long tasks it may run, by name."""
    link = ParentLink()
    heap_limit.apply()
    # A failed GGML_ASSERT would attach gdb to print a backtrace, pushing its reason out of
    # the stderr lines the parent keeps for the crash message (and taking seconds).
    os.environ["GGML_NO_BACKTRACE"] = "1"
    worker = Worker(link.emit, tasks)
    commands: queue.Queue[Event] = queue.Queue()

    def route(command: Event) -> None:
        # A cancel is taken at once, on the reading thread: the command it stops is running.
        if command.get("cmd") == "cancel":
            worker.handle(command)
        else:
            commands.put(command)

    threading.Thread(target=link.read_commands, args=(route,), daemon=True).start()
    # The header check of the first load needs gguf's tables: imported while no command waits.
    from desktop.gguf.header import warm_up

    threading.Thread(target=warm_up, daemon=True, name="warm-up").start()
    while worker.handle(commands.get()):
        pass
    worker.unload()
    return 0
