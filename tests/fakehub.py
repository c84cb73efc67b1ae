"""A fake Hugging Face Hub on 127.0.0.1 that huggingface_hub's own code talks to.

It speaks the part of the Hub API Hearth uses: model search, model info with file
metadata, and ``resolve`` with HEAD, GET and Range plus the headers the client checks.
Faults are switched on per file: drop the connection after N bytes, throttle, answer
with a status code, or serve wrong bytes; and the hostile ones: a body that goes on past the
file (``extra_bytes``), a gzip bomb (``gzip``), ``Range`` ignored. ``answer_fault`` puts a
fault on every JSON answer (search, model info): a trickle, or a gzip bomb.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import threading
import time
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse


@dataclass
class Fault:
    drop_after: int | None = None  # close the connection after this many body bytes
    bytes_per_second: int | None = None  # throttle the body
    status: int | None = None  # answer HEAD and GET with this status
    wrong_bytes: bool = False  # serve a body that does not match the advertised sha256
    times: int | None = None  # how many GETs the fault applies to (None: always)
    extra_bytes: int = 0  # filler sent after the real body (its length counted in Content-Length)
    gzip: bool = False  # the body, filler included, gzip-compressed with Content-Encoding: gzip
    ignore_range: bool = False  # answer every GET with the whole body, status 200


@dataclass
class FakeRepo:
    repo_id: str
    files: dict[str, bytes] = field(default_factory=dict)
    downloads: int = 0
    likes: int = 0
    last_modified: str = "2026-01-15T10:00:00.000Z"
    gated: bool | str = False
    sha: str = "0123456789abcdef0123456789abcdef01234567"
    tags: list[str] = field(default_factory=lambda: ["gguf"])
    gguf: dict[str, Any] | None = None  # what the Hub's `expand=["gguf"]` gives (total, architecture, ...)


class FakeHub:
    def __init__(self) -> None:
        self.repos: dict[str, FakeRepo] = {}
        self.faults: dict[tuple[str, str], Fault] = {}
        self.requests: list[tuple[str, str]] = []
        self.ranges: list[str] = []  # Range headers of file GETs, in order
        self.valid_tokens: set[str] = {"hf_valid_test_token"}
        self.bytes_sent: dict[str, int] = {}  # body bytes written per file name
        self.answer_fault: Fault | None = None  # on every JSON answer with status 200
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> FakeHub:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def add_repo(self, repo_id: str, **kwargs: Any) -> FakeRepo:
        repo = FakeRepo(repo_id, **kwargs)
        self.repos[repo_id] = repo
        return repo

    def add_file(self, repo_id: str, filename: str, data: bytes | Path) -> None:
        payload = data.read_bytes() if isinstance(data, Path) else data
        self.repos[repo_id].files[filename] = payload
        _digests(payload)

    def set_fault(self, repo_id: str, filename: str, fault: Fault | None) -> None:
        """A fault on one file's ``resolve``; filename "" puts it on the repo's info call."""
        if fault is None:
            self.faults.pop((repo_id, filename), None)
        else:
            self.faults[(repo_id, filename)] = fault

    def get_count(self, filename: str) -> int:
        return sum(1 for method, path in self.requests if method == "GET" and path.endswith("/" + filename))


# The Hub keeps these with each file; computing them per request would make the fake slow
# in a way the real one is not (it matters for the download benchmark's 1 GiB file). The
# cache holds the bytes object itself, so an entry can never be taken for another object.
_DIGESTS: dict[int, tuple[bytes, str, str]] = {}


def _digests(data: bytes) -> tuple[str, str]:
    entry = _DIGESTS.get(id(data))
    if entry is None or entry[0] is not data:
        oid = hashlib.sha1(b"blob %d\0" % len(data))
        oid.update(data)
        entry = (data, hashlib.sha256(data).hexdigest(), oid.hexdigest())
        if len(data) > 1024 * 1024:  # only big files are worth keeping
            _DIGESTS[id(data)] = entry
    return entry[1], entry[2]


_GZIPPED: dict[tuple[int, int], tuple[bytes, bytes]] = {}


def _gzip_bomb(data: bytes, extra: int) -> bytes:
    """``data`` and ``extra`` filler bytes, gzip-compressed: a few hundred KB per 100 MB."""
    entry = _GZIPPED.get((id(data), extra))
    if entry is None or entry[0] is not data:
        packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
        parts = [packer.compress(data)]
        filler = b" " * (1024 * 1024)
        for start in range(0, extra, len(filler)):
            parts.append(packer.compress(filler[: min(len(filler), extra - start)]))
        parts.append(packer.flush())
        entry = (data, b"".join(parts))
        _GZIPPED[(id(data), extra)] = entry
    return entry[1]


def _sha256(data: bytes) -> str:
    return _digests(data)[0]


def _git_oid(data: bytes) -> str:
    return _digests(data)[1]


_RESOLVE = re.compile(r"^/(?P<repo>[^/]+/[^/]+)/resolve/(?P<rev>[^/]+)/(?P<file>.+)$")
_INFO = re.compile(r"^/api/models/(?P<repo>[^/]+/[^/]+?)(?:/revision/(?P<rev>[^/]+))?$")


def _make_handler(hub: FakeHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def handle(self) -> None:
            # A client that hung up mid-answer, as Hearth does on a hostile one, is no error.
            with contextlib.suppress(ConnectionResetError, BrokenPipeError):
                super().handle()

        def _json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
            data = json.dumps(body).encode()
            fault = hub.answer_fault if status == 200 and self.command != "HEAD" else None
            if fault and fault.gzip:
                data = _gzip_bomb(data, fault.extra_bytes)  # JSON allows the filler: it is spaces
                headers = {**(headers or {}), "Content-Encoding": "gzip"}
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            if self.command != "HEAD":
                self._current = "(answer)"
                self._send_body(data, fault if fault and not fault.gzip else None)

        def _not_found(self, code: str = "RepoNotFound") -> None:
            self._json(404, {"error": "Repository Not Found"}, {"X-Error-Code": code})

        def do_HEAD(self) -> None:
            self._dispatch()

        def do_GET(self) -> None:
            self._dispatch()

        def _dispatch(self) -> None:
            parsed = urlparse(self.path)
            path = unquote(parsed.path)
            hub.requests.append((self.command, path))
            if path == "/api/whoami-v2":
                if self._token() is None:
                    self._json(401, {"error": "Invalid credentials in Authorization header"})
                else:
                    self._json(
                        200, {"name": "tester", "auth": {"accessToken": {"displayName": "hearth-test"}}}
                    )
                return
            repo_id = "/".join(path.removeprefix("/api/models/").lstrip("/").split("/")[:2])
            gated = hub.repos.get(repo_id)
            # As on the Hub: a gated repo's metadata is public, its files need an accepted token.
            if gated is not None and gated.gated and "/resolve/" in path and self._token() is None:
                self._json(
                    403,
                    {"error": "Access to this repo is restricted"},
                    {"X-Error-Code": "GatedRepo", "X-Error-Message": "Access to model is restricted."},
                )
                return
            if path == "/api/models":
                self._search(parse_qs(parsed.query))
                return
            if m := _INFO.match(path):
                fault = hub.faults.get((m["repo"], ""))
                if fault and fault.status:
                    self._json(fault.status, {"error": "fault"})
                    return
                self._info(m["repo"], parse_qs(parsed.query).get("expand", []))
                return
            if m := _RESOLVE.match(path):
                self._resolve(m["repo"], m["file"])
                return
            self._not_found("EntryNotFound")

        def _token(self) -> str | None:
            auth = self.headers.get("Authorization", "")
            token = auth.removeprefix("Bearer ").strip()
            return token if token in hub.valid_tokens else None

        def _summary(self, repo: FakeRepo) -> dict[str, Any]:
            return {
                "_id": repo.repo_id,
                "id": repo.repo_id,
                "modelId": repo.repo_id,
                "author": repo.repo_id.split("/")[0],
                "downloads": repo.downloads,
                "likes": repo.likes,
                "lastModified": repo.last_modified,
                "gated": repo.gated,
                "private": False,
                "tags": repo.tags,
                "library_name": "gguf",
                "gguf": repo.gguf,
            }

        def _search(self, query: dict[str, list[str]]) -> None:
            repos = list(hub.repos.values())
            search = (query.get("search") or [""])[0].lower()
            if search:
                repos = [r for r in repos if search in r.repo_id.lower()]
            for tag in query.get("filter", []):
                repos = [r for r in repos if tag in r.tags]
            if author := (query.get("author") or [""])[0]:
                repos = [r for r in repos if r.repo_id.split("/")[0] == author]
            sort = (query.get("sort") or ["downloads"])[0]
            key = {"downloads": "downloads", "likes": "likes", "lastModified": "last_modified"}.get(
                sort, "downloads"
            )
            repos.sort(key=lambda r: getattr(r, key), reverse=True)
            limit = int((query.get("limit") or ["1000"])[0])
            self._json(200, [self._summary(r) for r in repos[:limit]])

        def _info(self, repo_id: str, expand: list[str]) -> None:
            repo = hub.repos.get(repo_id)
            if repo is None:
                self._not_found()
                return
            if expand:  # only the fields asked for, as the Hub does
                full = self._summary(repo) | {"gguf": repo.gguf, "sha": repo.sha}
                self._json(200, {"id": repo.repo_id, "_id": repo.repo_id} | {k: full.get(k) for k in expand})
                return
            siblings = [
                {
                    "rfilename": name,
                    "size": len(data),
                    "blobId": _git_oid(data),
                    "lfs": {"size": len(data), "sha256": _sha256(data), "pointerSize": 134},
                }
                for name, data in sorted(repo.files.items())
            ]
            body = self._summary(repo) | {
                "sha": repo.sha,
                "siblings": siblings,
                "createdAt": "2025-06-01T00:00:00.000Z",
            }
            self._json(200, body)

        def _resolve(self, repo_id: str, filename: str) -> None:
            repo = hub.repos.get(repo_id)
            if repo is None:
                self._not_found()
                return
            data = repo.files.get(filename)
            if data is None:
                self._not_found("EntryNotFound")
                return
            fault = hub.faults.get((repo_id, filename))
            if fault and fault.status:
                # A status fault with `times` answers that many requests (HEAD or GET), then heals.
                if fault.times is None or fault.times > 0:
                    if fault.times is not None:
                        fault.times -= 1
                    self._json(fault.status, {"error": "fault"})
                    return
                fault = None
            sha = _sha256(data)
            body = data
            if self.command == "GET" and fault is not None and fault.times is not None:
                fault.times -= 1
                if fault.times < 0:
                    fault = None
            if fault and fault.wrong_bytes:
                body = bytes(b ^ 0xFF for b in data)
            start, end = 0, len(body)
            status = 200
            rng = self.headers.get("Range")
            if rng and self.command == "GET":
                hub.ranges.append(rng)
            if fault and fault.ignore_range:
                rng = None
            if rng and (m := re.match(r"bytes=(\d+)-(\d*)", rng)):
                start = int(m[1])
                end = min(len(body), int(m[2]) + 1) if m[2] else len(body)
                status = 206
            chunk = body[start:end]
            extra = fault.extra_bytes if fault and self.command == "GET" else 0
            encoded = fault is not None and fault.gzip and self.command == "GET"
            if encoded:
                chunk, extra = _gzip_bomb(chunk, extra), 0
            self._current = filename
            self.send_response(status)
            self.send_header("X-Repo-Commit", repo.sha)
            self.send_header("ETag", f'"{sha}"')
            self.send_header("X-Linked-Etag", f'"{sha}"')
            self.send_header("X-Linked-Size", str(len(data)))
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Last-Modified", datetime.now(UTC).strftime("%a, %d %b %Y %H:%M:%S GMT"))
            if status == 206:
                self.send_header("Content-Range", f"bytes {start}-{end - 1}/{len(body)}")
            if encoded:
                self.send_header("Content-Encoding", "gzip")
            length = len(chunk) + extra if self.command == "GET" else len(data)
            self.send_header("Content-Length", str(length))
            self.end_headers()
            if self.command == "HEAD":
                return
            self._send_body(chunk, fault, extra)

        _current = ""

        def _send_body(self, chunk: bytes, fault: Fault | None, extra: int = 0) -> None:
            limit = fault.drop_after if fault and fault.drop_after is not None else None
            rate = fault.bytes_per_second if fault else None
            step = 1024 * 1024 if rate is None else max(1, rate // 20)
            sent = 0
            view = memoryview(chunk)
            filler = memoryview(bytes(step))
            try:
                while sent < len(chunk) + extra:
                    if sent < len(chunk):
                        piece = view[sent : sent + step]
                    else:  # the filler past the real body, made as it goes
                        piece = filler[: min(step, len(chunk) + extra - sent)]
                    if limit is not None and sent + len(piece) > limit:
                        self.wfile.write(piece[: limit - sent])
                        hub.bytes_sent[self._current] = hub.bytes_sent.get(self._current, 0) + limit - sent
                        self.wfile.flush()
                        self.close_connection = True
                        self.connection.shutdown(2)
                        return
                    self.wfile.write(piece)
                    sent += len(piece)
                    hub.bytes_sent[self._current] = hub.bytes_sent.get(self._current, 0) + len(piece)
                    if rate is not None:
                        time.sleep(len(piece) / rate)
            except (BrokenPipeError, ConnectionResetError, OSError):
                self.close_connection = True

    return Handler
