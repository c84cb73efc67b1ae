"""A GGUF file's header fields read from the Hub with Range requests, without downloading it.

Most headers fit in the first megabyte; a large vocabulary can need a few more, so the
request grows until the key-value section is complete. Each answer is read as a stream and
no further than the bytes asked for: a server that ignores ``Range`` and sends the whole
multi-GB file costs no more than one that honours it. One deadline covers all the requests.
"""

from __future__ import annotations

from typing import Any

from desktop.gguf.header import BrokenModel, NeedMoreBytes, read_fields
from desktop.hub import load_huggingface_hub
from desktop.hub.api import ensure_reachable, hub_endpoint
from desktop.hub.describe import describe_hub_error
from desktop.hub.errors import HubError
from desktop.hub.limits import answer_limits

FIRST_REQUEST = 1024 * 1024
LARGEST_REQUEST = 64 * 1024 * 1024


def remote_fields(repo_id: str, filename: str, revision: str | None = None) -> dict[str, Any]:
    load_huggingface_hub()
    from huggingface_hub import hf_hub_url

    ensure_reachable()
    url = hf_hub_url(repo_id, filename, revision=revision, endpoint=hub_endpoint())
    want = FIRST_REQUEST
    # The cap allows for the piece in hand when the reading stops.
    with answer_limits(max_bytes=LARGEST_REQUEST + 1024 * 1024):
        while True:
            data = _first_bytes(url, want, repo_id)
            try:
                return read_fields(data)
            except NeedMoreBytes:
                if len(data) < want or want >= LARGEST_REQUEST:
                    raise BrokenModel("the header could not be read from the Hub (truncated file)") from None
                want *= 4


def _first_bytes(url: str, want: int, repo_id: str) -> bytes:
    """Up to ``want`` bytes from the start of the file; the rest of the answer is never read."""
    from huggingface_hub.utils import build_hf_headers, get_session, hf_raise_for_status  # type: ignore[attr-defined]

    chunks: list[bytes] = []
    got = 0
    try:
        with get_session().stream(
            "GET",
            url,
            headers={**build_hf_headers(), "Range": f"bytes=0-{want - 1}", "Accept-Encoding": "identity"},
            follow_redirects=True,
        ) as response:
            hf_raise_for_status(response)
            for chunk in response.iter_bytes():
                chunks.append(chunk)
                got += len(chunk)
                if got >= want:
                    break  # leaving the block closes the connection, mid-body if need be
    except HubError:
        raise
    except Exception as exc:
        raise describe_hub_error(exc, repo_id=repo_id) from exc
    return b"".join(chunks)[:want]
