"""The Hub endpoint and API object, built per call so environment changes take effect.

huggingface_hub is imported by the functions that use it, never at module level: it takes
about 0.4 s to import, and the window's start needs none of it. Every module of
``desktop.hub`` does the same, after ``load_huggingface_hub()`` (see ``desktop.hub``).
"""

from __future__ import annotations

import os
import socket
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from desktop.hub import load_huggingface_hub
from desktop.hub.errors import OFFLINE_MESSAGE, OFFLINE_MODE_MESSAGE, HubError
from desktop.settings import load_settings

if TYPE_CHECKING:
    from huggingface_hub import HfApi

DEFAULT_ENDPOINT = "https://huggingface.co"
PROBE_TIMEOUT_S = 4.0


def hub_endpoint() -> str:
    """HF_ENDPOINT is honoured, read at call time (huggingface_hub reads it once, at import)."""
    return (os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")


def ensure_reachable() -> None:
    """Fail at once when the Hub cannot be reached.

    huggingface_hub retries a refused connection five times with back-off (about 23 s):
    right for a flaky link, wrong for a laptop that is simply offline. One TCP connect
    tells the two apart in milliseconds.
    """
    load_huggingface_hub()
    from huggingface_hub import constants as hf_constants

    if hf_constants.is_offline_mode() or load_settings().offline:
        # Offline mode (the setting, or HF_HUB_OFFLINE): not even a probe leaves the machine.
        raise HubError(OFFLINE_MODE_MESSAGE, offline=True)
    parts = urlsplit(hub_endpoint())
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname or "", port), timeout=PROBE_TIMEOUT_S):
            pass
    except OSError as exc:
        raise HubError(OFFLINE_MESSAGE, offline=True) from exc


def hub_api() -> HfApi:
    load_huggingface_hub()
    from huggingface_hub import HfApi

    ensure_reachable()
    # token=None lets huggingface_hub use HF_TOKEN or its own token store.
    return HfApi(endpoint=hub_endpoint(), library_name="hearth")


def prepare_http() -> None:
    """Import huggingface_hub and build its shared HTTP client ahead of the first request;
    opens no connection.

    The import and the TLS certificates hold the interpreter lock for about half a second:
    done on a worker thread soon after the window is up, they no longer stall it mid-search.
    """
    load_huggingface_hub()
    from huggingface_hub.utils import get_session  # type: ignore[attr-defined]

    get_session()
