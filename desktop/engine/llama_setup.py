"""Making a ``llama_cpp.Llama`` the way the worker needs it: the model's header checked first
(from the header cache when the file was read before), no chat formatter compiled, load
progress reported, and what the build says about itself."""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from desktop.engine.protocol import LoadProgress
from desktop.gguf.header import GGUFHeader, read_header
from desktop.gguf.header_cache import HeaderCache
from desktop.paths import hearth_paths


@functools.cache
def _header_cache() -> HeaderCache | None:
    try:
        # A short wait only: the library's scan may be writing, and the file can be read instead.
        return HeaderCache.open(hearth_paths().header_cache_db, busy_timeout_s=0.25)
    except (OSError, sqlite3.Error):
        return None


def model_header(path: Path) -> GGUFHeader:
    """The model's header, from the header cache when this very file was read before
    (the library's scan reads every model it lists), else from the file."""
    cache = _header_cache()
    if cache is not None:
        try:
            return cache.read(path)
        except sqlite3.Error:
            pass  # a locked or damaged cache: the file says the same
    return read_header(path)


class _NoChatFormatter:
    """Stands in for llama-cpp-python's ``Jinja2ChatFormatter`` while a ``Llama`` is made.

    ``Llama()`` compiles every chat template in the file for its ``create_chat_completion``,
    which Hearth never calls: it renders the template itself, in its own sandbox, and falls
    back to a known format when the template fails. Compiled there, a template with one
    syntax error made the model impossible to load, and a real template's compiling took
    4-35 ms of every load.
    """

    def __init__(self, **_kwargs: Any) -> None:
        pass

    def to_chat_handler(self) -> Any:
        return _no_chat_completion


def _no_chat_completion(*_args: Any, **_kwargs: Any) -> Any:
    raise RuntimeError("Hearth renders chat templates itself (desktop.engine.chat_template)")


def new_llama(**kwargs: Any) -> Any:
    import llama_cpp.llama_chat_format as chat_format
    from llama_cpp import Llama  # imported when first needed: the worker starts faster

    formatter = chat_format.Jinja2ChatFormatter
    chat_format.Jinja2ChatFormatter = _NoChatFormatter  # type: ignore[misc,assignment]
    try:
        return Llama(**kwargs)
    finally:
        chat_format.Jinja2ChatFormatter = formatter  # type: ignore[misc]


@contextmanager
def load_progress(send: Any) -> Iterator[None]:
    """Reports llama.cpp's load progress as LoadProgress events, every 5% at most.

    llama-cpp-python does not expose the progress callback, so the default model parameters
    it starts from are given one while this load runs.
    """
    import llama_cpp.llama_cpp as low

    last = [-1.0]

    def progress(fraction: float, _data: Any) -> bool:
        if fraction - last[0] >= 0.05 or fraction >= 1.0:
            last[0] = fraction
            send(LoadProgress(round(float(fraction), 3)))
        return True  # False would abort the load

    callback = low.llama_progress_callback(progress)
    original = low.llama_model_default_params

    def with_progress() -> Any:
        params = original()
        params.progress_callback = callback
        return params

    low.llama_model_default_params = with_progress
    try:
        yield
    finally:
        low.llama_model_default_params = original


def system_info() -> str:
    import llama_cpp

    raw = llama_cpp.llama_print_system_info()
    return (raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)).strip()


def backend_name() -> str:
    import llama_cpp

    return "gpu" if llama_cpp.llama_supports_gpu_offload() else "cpu"
