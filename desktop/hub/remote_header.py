"""A GGUF file's header fields read from the Hub with a Range request, without downloading it.

One request asks for the file's first ``MAX_HEADER_BYTES``; the answer is read as a stream and
parsed as it arrives (each piece once), and the connection is closed as soon as the key-value
section is complete, so a header costs about its own size. The shape of the model comes in the
first kilobytes; ``tokenizer.chat_template`` comes after the vocabulary, which is several MB
for a large one (6.5 MB for Gemma 3's 262,144 tokens). Nothing past the bound is read, whatever
the server sends (a server that ignores ``Range`` and sends the whole multi-GB file costs no
more than one that honours it): what lies beyond is reported as not known, never guessed. One
deadline covers the whole read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from desktop.gguf.header import BrokenModel, HeaderStart, read_fields_from
from desktop.hub import load_huggingface_hub
from desktop.hub.api import ensure_reachable, hub_endpoint
from desktop.hub.describe import describe_hub_error
from desktop.hub.errors import HubError
from desktop.hub.limits import answer_limits

# The most of a header read from the Hub. The largest vocabularies in use (about 260,000
# tokens, with or without BPE merges) make key-value sections of 6 to 15 MB; twice that
# leaves room for what comes next, and a hostile header costs no more than this.
MAX_HEADER_BYTES = 32_000_000
# Parsed first after this many bytes (most headers are under a megabyte), then each time the
# bytes in hand have doubled, at most a megabyte apart.
FIRST_LOOK = 64 * 1024
LOOK_STEP = 1024 * 1024


@dataclass(frozen=True)
class RemoteHeader:
    fields: dict[str, Any]  # the key-value pairs read (all of them when ``complete``)
    complete: bool  # False: the section goes on past MAX_HEADER_BYTES
    bytes_read: int
    has_chat_template: bool | None  # None: not reached within the bound


def remote_header(repo_id: str, filename: str, revision: str | None = None) -> RemoteHeader:
    load_huggingface_hub()
    from huggingface_hub import hf_hub_url

    ensure_reachable()
    url = hf_hub_url(repo_id, filename, revision=revision, endpoint=hub_endpoint())
    # The cap allows for the piece in hand when the reading stops.
    with answer_limits(max_bytes=MAX_HEADER_BYTES + LOOK_STEP):
        return _read(url, repo_id)


def _read(url: str, repo_id: str) -> RemoteHeader:
    from huggingface_hub.utils import build_hf_headers, get_session, hf_raise_for_status  # type: ignore[attr-defined]

    data = bytearray()
    found: HeaderStart | None = None
    look_at = FIRST_LOOK
    try:
        with get_session().stream(
            "GET",
            url,
            headers={
                **build_hf_headers(),
                "Range": f"bytes=0-{MAX_HEADER_BYTES - 1}",
                "Accept-Encoding": "identity",
            },
            follow_redirects=True,
        ) as response:
            hf_raise_for_status(response)
            for chunk in response.iter_bytes():
                data += chunk[: MAX_HEADER_BYTES - len(data)]
                if len(data) < look_at and len(data) < MAX_HEADER_BYTES:
                    continue
                found = read_fields_from(data, found)
                if found.complete or len(data) >= MAX_HEADER_BYTES:
                    break  # leaving the block closes the connection, mid-body if need be
                look_at = len(data) + min(len(data), LOOK_STEP)
            else:  # the answer ended: the whole file, if it is shorter than the bound
                found = read_fields_from(data, found)
                if not found.complete:
                    raise BrokenModel("the header could not be read from the Hub (truncated file)")
    except (HubError, BrokenModel):
        raise
    except Exception as exc:
        raise describe_hub_error(exc, repo_id=repo_id) from exc
    return RemoteHeader(found.fields, found.complete, len(data), found.has_chat_template)
