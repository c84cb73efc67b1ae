"""The Hub's one error type and its standing messages (``describe`` turns failures into it).

Imports nothing of huggingface_hub, so the guards that read every answer can raise it."""

from __future__ import annotations


class HubError(Exception):
    """A Hub request that failed, with a message fit to show as it is."""

    def __init__(self, message: str, *, offline: bool = False) -> None:
        super().__init__(message)
        self.offline = offline


OFFLINE_MESSAGE = (
    "Can't reach the Hugging Face Hub. Check your internet connection and try again; "
    "models already on this computer still load and chat."
)


OFFLINE_MODE_MESSAGE = (
    "Offline mode is on, so Hearth does not contact the Hub. Turn it off in the Hub menu "
    "(or unset HF_HUB_OFFLINE) to search and download."
)
