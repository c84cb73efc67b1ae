"""llama.cpp's own log lines, kept in the worker so a failed load can say why.

llama-cpp-python sends llama.cpp's log to stderr only when verbose, and silences stderr
while a model loads, so the reason for a failure ("unknown model architecture: 'x'") is
lost. This callback keeps the last warnings and errors instead.
"""

from __future__ import annotations

import collections
import ctypes
import re
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


class _Audible:
    """Stands in for llama-cpp-python's ``suppress_stdout_stderr``, which points fd 2 at
    /dev/null while a model loads: what llama.cpp prints there itself (a failed
    GGML_ASSERT's reason, just before it aborts) must reach the parent, which keeps the
    worker's last stderr lines for its crash message. Its log goes to the callback anyway."""

    def __init__(self, disable: bool = True) -> None:
        pass

    def __enter__(self) -> _Audible:
        return self

    def __exit__(self, *_exc: object) -> None:
        return None


def _keep_stderr() -> None:
    import llama_cpp._internals as internals
    import llama_cpp.llama as llama

    internals.suppress_stdout_stderr = _Audible  # type: ignore[assignment,attr-defined]
    llama.suppress_stdout_stderr = _Audible  # type: ignore[assignment,attr-defined]


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
        _keep_stderr()

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


# What llama.cpp (or the C++ runtime under it) prints on its way down, most telling first.
_LAST_WORDS = ("GGML_ASSERT", "GGML_ABORT", "what():", "terminate called", "error", "failed", "Assertion")
_SOURCE_PATH = re.compile(r"^(?:[^\s:]*/)?([\w.+-]+\.(?:c|cc|cpp|h|cu|m)):(\d+): ")


def last_words(stderr_lines: list[str]) -> str | None:
    """The line in a dead worker's last stderr lines that says why llama.cpp stopped it,
    without the build machine's source path (``ggml.c:5515`` is kept, at the end)."""
    lines = [line.strip() for line in stderr_lines if line.strip()]
    for marker in _LAST_WORDS:
        found = next((line for line in reversed(lines) if marker.lower() in line.lower()), None)
        if found is not None:
            if "bad_alloc" in found:
                return "out of memory (std::bad_alloc)"
            match = _SOURCE_PATH.match(found)
            if match:
                return f"{found[match.end() :]} ({match.group(1)}:{match.group(2)})"
            return found
    return None
