"""A conversation's own settings: sampling, what happens at the context limit, chat or notebook.

Kept as JSON on the conversation. Sampling the person has not touched follows the loaded
model's recommended values (``general.sampling.*`` in its GGUF), then Hearth's defaults.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, Literal

from desktop.engine.protocol import Sampling

ContextPolicy = Literal["stop", "drop_oldest"]
ChatMode = Literal["chat", "notebook"]

CONTEXT_POLICIES: dict[str, str] = {
    "stop": "Stop and say so",
    "drop_oldest": "Drop the oldest turns (keep the system prompt)",
}
DEFAULT_SAMPLING = Sampling(max_tokens=2048)


def _sampling_from(values: dict[str, Any], base: Sampling) -> Sampling:
    known = {f.name for f in fields(Sampling)}
    changes: dict[str, Any] = {}
    for name, value in values.items():
        if name not in known or (value is None and name != "seed"):
            continue
        if name in ("max_tokens", "top_k"):
            changes[name] = int(value)
        elif name == "seed":
            changes[name] = None if value is None else int(value)
        else:
            changes[name] = float(value)
    return replace(base, **changes)


@dataclass(frozen=True)
class ChatSettings:
    sampling: dict[str, Any] = field(default_factory=dict)  # only what the person set
    context_policy: ContextPolicy = "stop"
    mode: ChatMode = "chat"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ChatSettings:
        policy = data.get("context_policy", "stop")
        mode = data.get("mode", "chat")
        return cls(
            sampling=dict(data.get("sampling") or {}),
            context_policy=policy if policy in CONTEXT_POLICIES else "stop",
            mode="notebook" if mode == "notebook" else "chat",
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def effective_sampling(self, recommended: dict[str, float] | None = None) -> Sampling:
        base = _sampling_from(recommended or {}, DEFAULT_SAMPLING)
        return _sampling_from(self.sampling, base)
