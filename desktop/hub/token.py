"""The Hugging Face token, kept in huggingface_hub's own token store (shared with `hf auth`)."""

from __future__ import annotations

from desktop.hub import load_huggingface_hub
from desktop.hub.api import ensure_reachable, hub_endpoint
from desktop.hub.describe import describe_hub_error
from desktop.hub.errors import HubError
from desktop.hub.limits import answer_limits


def save_token(token: str) -> str:
    """Check the token with the Hub, store it as the active one, and return the account name."""
    load_huggingface_hub()
    from huggingface_hub import HfApi

    # login() checks the token against the endpoint fixed at import; these store it as login() does.
    from huggingface_hub._login import _set_active_token
    from huggingface_hub.utils._auth import _save_token

    token = token.strip()
    if not token:
        raise HubError("Paste a Hugging Face access token (it starts with hf_).")
    ensure_reachable()
    try:
        with answer_limits():
            info = HfApi(endpoint=hub_endpoint()).whoami(token=token, cache=False)
    except Exception as exc:
        described = describe_hub_error(exc)
        if "(401)" in str(described) or "refused access" in str(described):
            raise HubError(
                "The Hub did not accept that token. Copy it again from your account's settings."
            ) from exc
        raise described from exc
    name = str(info.get("name", "your account"))
    access = (info.get("auth") or {}).get("accessToken") or {}
    token_name = str(access.get("displayName") or f"hearth-{name}")
    _save_token(token=token, token_name=token_name)
    _set_active_token(token_name=token_name, add_to_git_credential=False)
    return name


def has_token() -> bool:
    load_huggingface_hub()
    from huggingface_hub import get_token

    return get_token() is not None
