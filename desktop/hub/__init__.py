"""Qt-free access to the Hugging Face Hub: search, repo files, downloads (huggingface_hub only)."""

from __future__ import annotations

import importlib
import os
import threading

# Hearth sends nothing the user did not ask for. Set before huggingface_hub is imported,
# since it reads its environment once, at import.
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

# The parts of huggingface_hub that Hearth uses.
_HF_MODULES = (
    "huggingface_hub",
    "huggingface_hub.constants",
    "huggingface_hub.errors",
    "huggingface_hub.utils",
    "huggingface_hub.utils.tqdm",
    "huggingface_hub.utils._auth",
    "huggingface_hub.file_download",
    "huggingface_hub.hf_api",
    "huggingface_hub.repocard",
    "huggingface_hub._login",
)
_hf_lock = threading.Lock()
_hf_loaded = False


def load_huggingface_hub() -> None:
    """Import huggingface_hub, once, one thread at a time; every module here calls this first.

    It is imported when first needed, not at start-up: about 0.4 s that the window does not
    need. First needs can come on two worker threads at once (a repo's files and its card),
    and two threads importing one package's mutually importing modules from different ends
    can deadlock in the import system; behind this lock, one imports and the other waits.
    """
    global _hf_loaded
    if _hf_loaded:
        return
    with _hf_lock:
        if not _hf_loaded:
            for name in _HF_MODULES:
                importlib.import_module(name)
            from desktop.hub.guarded_http import install

            install()  # every answer read with a size cap and a deadline
            _hf_loaded = True
