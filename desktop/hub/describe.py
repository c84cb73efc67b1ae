"""One place that turns huggingface_hub and network failures into words a person can act on."""

from __future__ import annotations

from desktop.hub import load_huggingface_hub
from desktop.hub.errors import OFFLINE_MESSAGE, OFFLINE_MODE_MESSAGE, HubError
from desktop.safe_text import printable


def _chain(exc: BaseException) -> list[BaseException]:
    found: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not e for e in found):
        found.append(current)
        current = current.__cause__ or current.__context__
    return found


def _is_timeout(exc: BaseException) -> bool:
    return any("TimeoutException" in {cls.__name__ for cls in type(e).__mro__} for e in _chain(exc))


def _is_network_failure(exc: BaseException) -> bool:
    return any(
        {cls.__name__ for cls in type(e).__mro__} & {"TransportError", "ConnectionError", "TimeoutError"}
        for e in _chain(exc)
    )


def describe_hub_error(exc: BaseException, *, repo_id: str | None = None) -> HubError:
    if isinstance(exc, HubError):
        return exc
    # Imported here, not at the top: huggingface_hub takes about 0.4 s to import, which the
    # window's start does not need. Whatever failed has imported it already, as a rule.
    load_huggingface_hub()
    from huggingface_hub.errors import (
        GatedRepoError,
        HfHubHTTPError,
        LocalEntryNotFoundError,
        OfflineModeIsEnabled,
        RemoteEntryNotFoundError,
        RepositoryNotFoundError,
    )

    # huggingface_hub wraps the real failure (say, a 503 on HEAD) in a generic one: use the root.
    exc = next((e for e in _chain(exc) if isinstance(e, HfHubHTTPError | OfflineModeIsEnabled)), exc)
    what = f"'{repo_id}'" if repo_id else "this repository"
    if isinstance(exc, OfflineModeIsEnabled):
        return HubError(OFFLINE_MODE_MESSAGE, offline=True)
    if isinstance(exc, GatedRepoError):
        return HubError(
            f"{what} is gated: accept its licence on huggingface.co, then give Hearth a Hugging Face "
            "token (Hub ▸ Hugging Face token…, or HF_TOKEN, or `hf auth login`)."
        )
    if isinstance(exc, RepositoryNotFoundError):
        return HubError(f"The Hub has no model {what} (or it is private and needs a token).")
    if isinstance(exc, RemoteEntryNotFoundError):
        return HubError(f"That file is not in {what} on the Hub.")
    if isinstance(exc, HfHubHTTPError):
        status = exc.response.status_code if exc.response is not None else None
        if status in (401, 403):
            return HubError(
                f"The Hub refused access to {what} ({status}). Check your Hugging Face token "
                "(HF_TOKEN or `hf auth login`) and that you accepted the model's licence."
            )
        if status is not None and status >= 500:
            return HubError(f"The Hub had a problem answering ({status}). Try again in a moment.")
        return HubError(f"The Hub answered with an error ({status}): {printable(str(exc))}")
    if _is_timeout(exc):
        return HubError(
            "The Hub stopped answering part-way (the connection or the server is too slow). Try again later."
        )
    if _is_network_failure(exc) or isinstance(exc, LocalEntryNotFoundError):
        # LocalEntryNotFoundError: the Hub could not be asked and the file is in no cache.
        return HubError(OFFLINE_MESSAGE, offline=True)
    return HubError(f"Hub request failed: {printable(str(exc))}")
