"""What the GUI, the CLI and the benchmarks say to the inference worker, and what it answers.

Commands and events travel as JSON objects (one a line); these records are their typed form.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal, TypeVar

from desktop.settings import Settings

Role = Literal["system", "user", "assistant", "tool"]


@dataclass(frozen=True)
class ToolCall:
    """A call of one of a program's tools, as the model wrote it."""

    id: str
    name: str
    arguments: str  # JSON text (an object), as OpenAI's API carries it


@dataclass(frozen=True)
class ChatMessage:
    role: str
    content: str
    tool_calls: tuple[ToolCall, ...] = ()  # an assistant turn's calls
    tool_call_id: str = ""  # a "tool" turn: the call whose result it carries


ENGINE_SUBCOMMAND = "_engine"  # `python -m desktop _engine` runs the worker
AUTO_GPU_LAYERS = -2  # Hearth works out what fits the GPU's free memory
ALL_GPU_LAYERS = -1
KV_TYPES = ("f16", "q8_0", "q4_0")


@dataclass(frozen=True)
class LoadOptions:
    model_path: str
    n_ctx: int = 0  # 0: the model's trained length, capped at DEFAULT_MAX_CTX
    n_threads: int | None = None  # None: the physical cores
    n_gpu_layers: int = 0  # AUTO_GPU_LAYERS, ALL_GPU_LAYERS, or a count
    n_batch: int = 2048
    n_ubatch: int = 512
    flash_attn: bool = True
    kv_type: str = "f16"  # one of KV_TYPES
    use_mmap: bool = True
    use_mlock: bool = False

    @classmethod
    def from_settings(cls, settings: Settings, model_path: str) -> LoadOptions:
        """The engine settings the app, the CLI and the compare window load with."""
        return cls(
            model_path,
            n_ctx=settings.load_context,
            n_threads=settings.threads,
            n_gpu_layers=settings.gpu_layers,
            n_batch=settings.batch_size,
            n_ubatch=settings.ubatch_size,
            flash_attn=settings.flash_attn,
            kv_type=settings.kv_type,
            use_mmap=settings.use_mmap,
            use_mlock=settings.use_mlock,
        )


@dataclass(frozen=True)
class Sampling:
    max_tokens: int = 512
    temperature: float = 0.7
    top_p: float = 0.95
    top_k: int = 40
    min_p: float = 0.05
    repeat_penalty: float = 1.0
    seed: int | None = None
    # OpenAI's penalties: subtracted from a token's logit once it has appeared (presence), and
    # once per appearance (frequency), over the last PENALTY_LAST_N tokens.
    presence_penalty: float = 0.0
    frequency_penalty: float = 0.0
    # A JSON schema (its JSON text, checked by desktop/engine/json_schema) the reply must be
    # valid against, enforced by a grammar; "" for free text.
    json_schema: str = ""
    # Tools the reply may call: their OpenAI ``tools`` entries as JSON text (checked by
    # desktop/engine/tool_calls), "" for none; the choice is "auto", "none", "required" or the
    # name of the one function the reply must call.
    tools: str = ""
    tool_choice: str = "auto"
    parallel_tool_calls: bool = True


@dataclass(frozen=True)
class ModelLoaded:
    model_path: str
    architecture: str | None
    load_ms: float
    n_ctx: int
    gpu_layers: int
    backend: str
    template_source: str  # "gguf", or "fallback:<name>" when Hearth had to choose a format
    template_note: str | None  # why a fallback was used, in words
    recommended_sampling: dict[str, float] = field(default_factory=dict)  # from general.sampling.*
    # What the engine actually runs with (the settings as they reached llama.cpp).
    n_threads: int = 0
    n_batch: int = 0
    n_ubatch: int = 0
    flash_attn: bool = False
    kv_type: str = "f16"
    use_mmap: bool = True
    use_mlock: bool = False
    total_layers: int = 0  # n_gpu_layers that would put everything on the GPU
    load_note: str | None = None  # what GPU fitting or a fallback did, in words
    build_info: str = ""  # llama.cpp's system info: the backends and CPU features it uses
    has_chat_template: bool = True  # False: a base model, made to continue text (notebook mode)
    model_name: str | None = None  # the GGUF's general.name, printable and short, where it has one


@dataclass(frozen=True)
class GenerationStats:
    request_id: str
    text: str
    stop_reason: str  # "stop", "length" (max tokens), "context" (the context is full), "cancelled"
    prompt_tokens: int
    completion_tokens: int
    ttft_ms: float
    prompt_tps: float
    gen_tps: float
    n_ctx: int = 0
    dropped_messages: int = 0  # oldest turns left out to fit the context (policy "drop_oldest")
    cached_tokens: int = 0  # prompt tokens reused from the previous turn's KV cache
    # Tokens a second as the worker produced them (decode, sampling and detokenizing), first
    # token to last; gen_tps is llama.cpp's own decode timing.
    wall_tps: float = 0.0
    peak_rss_bytes: int = 0  # the worker's peak memory since this model was loaded
    # The calls of tools the reply made (``text`` is then its words around them, often "").
    tool_calls: tuple[ToolCall, ...] = ()


@dataclass(frozen=True)
class TokenEvent:
    request_id: str
    text: str


@dataclass(frozen=True)
class EngineError:
    message: str
    kind: str = "error"  # "load", "generate", "crashed", "protocol"
    request_id: str | None = None


@dataclass(frozen=True)
class Unloaded:
    pass


@dataclass(frozen=True)
class LoadProgress:
    fraction: float  # 0..1 of the model's tensors read


@dataclass(frozen=True)
class Rendered:
    """A conversation as the exact prompt text the engine would tokenize."""

    prompt: str
    template_source: str  # "gguf" or "fallback:<name>"
    bos_added: bool  # whether the engine adds BOS in front of that text
    note: str | None = None


@dataclass(frozen=True)
class TaskProgress:
    """How far a long task (evaluation, quantization, speed bench) has come."""

    request_id: str
    stage: str  # what it is doing, in words ("Scoring Model-Q4_K_M.gguf")
    fraction: float  # 0..1 of the whole task


@dataclass(frozen=True)
class TaskDone:
    """A long task's outcome: ``result`` is the task's own record as a dict (see desktop.compare)."""

    request_id: str
    kind: str  # "eval", "quantize", "bench"
    result: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Embeddings:
    """Texts' pooled embeddings, each of length 1, in the order they were asked for."""

    request_id: str
    vectors: list[list[float]] = field(default_factory=list)
    prompt_tokens: int = 0
    pooling: str = ""  # how the tokens' states became one vector ("mean", "cls", "last" …)


EngineEvent = (
    ModelLoaded
    | GenerationStats
    | TokenEvent
    | EngineError
    | Unloaded
    | Rendered
    | LoadProgress
    | TaskProgress
    | TaskDone
    | Embeddings
)

_EVENT_NAMES: dict[str, type[Any]] = {
    "loaded": ModelLoaded,
    "done": GenerationStats,
    "token": TokenEvent,
    "error": EngineError,
    "unloaded": Unloaded,
    "rendered": Rendered,
    "progress": LoadProgress,
    "task_progress": TaskProgress,
    "task_done": TaskDone,
    "embeddings": Embeddings,
}
_NAME_OF = {cls: name for name, cls in _EVENT_NAMES.items()}

T = TypeVar("T")


def from_dict(cls: type[T], data: dict[str, Any]) -> T:
    names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    return cls(**{k: v for k, v in data.items() if k in names})


def event_to_dict(event: EngineEvent) -> dict[str, Any]:
    return {"event": _NAME_OF[type(event)], **asdict(event)}


def event_from_dict(data: dict[str, Any]) -> EngineEvent:
    cls = _EVENT_NAMES.get(str(data.get("event")))
    if cls is None:
        return EngineError(f"unknown event from the engine: {data.get('event')!r}", kind="protocol")
    if cls is GenerationStats:
        data = {**data, "tool_calls": _tool_calls(data.get("tool_calls"))}
    event: EngineEvent = from_dict(cls, data)
    return event


def _tool_calls(value: Any) -> tuple[ToolCall, ...]:
    return tuple(from_dict(ToolCall, call) for call in value or ())


@dataclass(frozen=True)
class ChatRequest:
    request_id: str
    messages: list[ChatMessage] = field(default_factory=list)
    sampling: Sampling = field(default_factory=Sampling)
    context_policy: str = "stop"  # or "drop_oldest": leave out the oldest turns, keep the system prompt
    mode: str = "chat"  # or "complete": the messages' text continued as is, no template (notebook)
    stop: tuple[str, ...] = ()  # the caller's own stop strings, cut like the template's end markers


@dataclass(frozen=True)
class EmbedRequest:
    """The loaded model's embeddings of texts; ``truncate``: cut a text too long, else refuse it."""

    request_id: str
    texts: list[str] = field(default_factory=list)
    truncate: bool = True


@dataclass(frozen=True)
class RenderRequest:
    """The prompt a conversation becomes for a model, read from its vocabulary alone."""

    model_path: str
    messages: list[ChatMessage] = field(default_factory=list)
    add_generation_prompt: bool = True


@dataclass(frozen=True)
class TaskRequest:
    """A long task registered with the worker by name (the compare tools' eval, quantize, bench)."""

    request_id: str
    kind: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Cancel:
    request_id: str


@dataclass(frozen=True)
class Unload:
    pass


@dataclass(frozen=True)
class Shutdown:
    pass


EngineCommand = (
    LoadOptions | ChatRequest | RenderRequest | TaskRequest | EmbedRequest | Cancel | Unload | Shutdown
)

_COMMAND_NAMES: dict[str, type[Any]] = {
    "load": LoadOptions,
    "chat": ChatRequest,
    "render": RenderRequest,
    "task": TaskRequest,
    "embed": EmbedRequest,
    "cancel": Cancel,
    "unload": Unload,
    "shutdown": Shutdown,
}
_COMMAND_NAME_OF = {cls: name for name, cls in _COMMAND_NAMES.items()}


def command_to_dict(command: EngineCommand) -> dict[str, Any]:
    return {"cmd": _COMMAND_NAME_OF[type(command)], **asdict(command)}


def command_from_dict(data: dict[str, Any]) -> EngineCommand:
    """Raises ValueError for a command this worker does not know or one missing its fields."""
    cls = _COMMAND_NAMES.get(str(data.get("cmd")))
    if cls is None:
        raise ValueError(f"unknown command {data.get('cmd')!r}")
    try:
        if cls is ChatRequest:
            return ChatRequest(
                request_id=str(data["request_id"]),
                messages=_messages(data),
                sampling=from_dict(Sampling, data.get("sampling", {})),
                context_policy=str(data.get("context_policy", "stop")),
                mode=str(data.get("mode", "chat")),
                stop=tuple(str(text) for text in data.get("stop", ()) if text),
            )
        if cls is RenderRequest:
            return RenderRequest(
                str(data["model_path"]), _messages(data), bool(data.get("add_generation_prompt", True))
            )
        if cls is EmbedRequest:
            texts = data["texts"]
            if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
                raise TypeError("texts must be a list of strings")
            return EmbedRequest(str(data["request_id"]), texts, bool(data.get("truncate", True)))
        if cls is TaskRequest:
            return TaskRequest(str(data["request_id"]), str(data["kind"]), dict(data.get("params", {})))
        command: EngineCommand = from_dict(cls, data)
    except (KeyError, TypeError) as exc:
        raise ValueError(f"a {data.get('cmd')!r} command without its fields ({exc})") from None
    return command


def _messages(data: dict[str, Any]) -> list[ChatMessage]:
    return [
        from_dict(ChatMessage, {**m, "tool_calls": _tool_calls(m.get("tool_calls"))})
        for m in data.get("messages", [])
    ]
