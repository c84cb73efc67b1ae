"""llama.cpp's own log lines, kept in the worker so a failed load can say why.

llama-cpp-python sends llama.cpp's log to stderr only when verbose, and silences stderr
while a model loads, so the reason for a failure ("unknown model architecture: 'x'") is
lost. This callback keeps the last warnings and errors instead.
"""

from __future__ import annotations

import collections
import ctypes
from collections.abc import Callable
from typing import Any

# ggml_log_level in the llama.cpp this binding ships: NONE 0, DEBUG 1, INFO 2, WARN 3, ERROR 4, CONT 5.
_WARN = 3
_ERROR = 4
_CONT = 5

_HINTS = (
    ("unknown model architecture", "This build of llama.cpp does not know the model's architecture"),
    ("failed to allocate", "Not enough memory to load the model"),
    ("out of memory", "Not enough memory to load the model"),
    ("unable to allocate", "Not enough memory to load the model"),
)


class LlamaLog:
    def __init__(self, keep: int = 40) -> None:
        self.lines: collections.deque[str] = collections.deque(maxlen=keep)
        self._level = 0
        self._callback: Any = None
        # Also shown every line while set (the quantizer's per-tensor lines give its progress).
        self.listener: Callable[[str], None] | None = None

    def install(self) -> None:
        import llama_cpp

        @llama_cpp.llama_log_callback  # type: ignore[untyped-decorator]
        def on_log(level: int, text: bytes, user_data: ctypes.c_void_p) -> None:
            if level != _CONT:
                self._level = level
            if self.listener is not None:
                self.listener(text.decode("utf-8", "replace"))
            if self._level in (_WARN, _ERROR):
                line = text.decode("utf-8", "replace").strip()
                if line:
                    self.lines.append(line)

        self._callback = on_log  # keep a reference: llama.cpp holds only the pointer
        llama_cpp.llama_log_set(on_log, ctypes.c_void_p(0))

    def clear(self) -> None:
        self.lines.clear()

    def explain(self, message: str) -> str:
        """``message`` with a plain-words cause in front when the log names one."""
        for needle, hint in _HINTS:
            for line in self.lines:
                if needle in line.lower():
                    detail = line.split(needle, 1)[-1].strip(" :") if needle == _HINTS[0][0] else ""
                    prefix = f"{hint} ({detail})" if detail else hint
                    return f"{prefix}. {message}"
        errors = [line for line in self.lines if "error" in line.lower()]
        return f"{message} ({errors[-1]})" if errors else message
