"""A GGUF file's header fields read from the Hub with Range requests, without downloading it.

Most headers fit in the first megabyte; a large vocabulary can need a few more, so the
request grows until the key-value section is complete.
"""

from __future__ import annotations

from typing import Any

from desktop.hub import load_huggingface_hub
from desktop.hub.api import ensure_reachable, hub_endpoint
from desktop.hub.errors import describe_hub_error
from desktop.library.gguf_header import BrokenModel, NeedMoreBytes, read_fields

FIRST_REQUEST = 1024 * 1024
LARGEST_REQUEST = 64 * 1024 * 1024


def remote_fields(repo_id: str, filename: str, revision: str | None = None) -> dict[str, Any]:
    load_huggingface_hub()
    from huggingface_hub import hf_hub_url
    from huggingface_hub.utils import build_hf_headers, get_session, hf_raise_for_status  # type: ignore[attr-defined]

    ensure_reachable()
    url = hf_hub_url(repo_id, filename, revision=revision, endpoint=hub_endpoint())
    want = FIRST_REQUEST
    while True:
        try:
            response = get_session().get(
                url,
                headers={**build_hf_headers(), "Range": f"bytes=0-{want - 1}"},
                follow_redirects=True,
            )
            hf_raise_for_status(response)
        except Exception as exc:
            raise describe_hub_error(exc, repo_id=repo_id) from exc
        data = response.content
        try:
            return read_fields(data)
        except NeedMoreBytes:
            if len(data) < want or want >= LARGEST_REQUEST:
                raise BrokenModel("the header could not be read from the Hub (truncated file)") from None
            want *= 4
