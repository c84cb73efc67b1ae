"""What every request passes before it reaches the API: the Host check (a web page must not
reach the server through a name that resolves to this machine, the DNS rebinding of Ollama's
CVE-2024-28224), the API key, and the log line written when its answer has gone."""

from __future__ import annotations

import hmac
import ipaddress
import socket
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from desktop.app.request_log import RequestLog
from desktop.app.server_config import LOOPBACK_NAMES
from desktop.server.errors import ApiError

WILDCARD_HOSTS = ("0.0.0.0", "::", "")


def _bare_host(value: str) -> str:
    """``[::1]:5151`` → ``::1``, ``Localhost.:80`` → ``localhost``."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1 : value.find("]")] if "]" in value else value
    if value.count(":") == 1:
        value = value.split(":", 1)[0]
    return value.rstrip(".")


def machine_names() -> set[str]:
    """This machine's host names and the addresses they resolve to (for a server on 0.0.0.0)."""
    names = {socket.gethostname().lower(), socket.getfqdn().lower()}
    for name in list(names):
        try:
            names.update(str(info[4][0]).lower() for info in socket.getaddrinfo(name, None))
        except OSError:
            continue
    return {n for n in names if n}


def allowed_hosts(bound: str) -> set[str]:
    hosts = {_bare_host(h) for h in LOOPBACK_NAMES} | {_bare_host(bound)}
    if bound in WILDCARD_HOSTS:
        hosts |= machine_names()
    return hosts


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


class RequestGuard:
    """The Host check and the log line. Outermost, so refused requests are logged too."""

    def __init__(self, app: ASGIApp, *, bound_host: str, write_log: Callable[[RequestLog], None]) -> None:
        self.app = app
        self._allowed = allowed_hosts(bound_host)
        self._write_log = write_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        record = RequestLog(f"{client[0]}:{client[1]}" if client else "?", scope["method"], scope["path"])
        scope["hearth.log"] = record

        async def logged_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                record.status = int(message["status"])
            await send(message)

        try:
            refusal = self._refusal(scope)
            if refusal is not None:
                await refusal.response_for(scope["path"])(scope, receive, logged_send)
            else:
                await self.app(scope, receive, logged_send)
        finally:
            if not record.status:
                record.status, record.note = 499, record.note or "the client went away"
            self._write_log(record)

    def _refusal(self, scope: Scope) -> ApiError | None:
        headers = dict(scope["headers"])
        host = headers.get(b"host")
        if host is None:
            return ApiError(403, "a Host header is required")
        name = _bare_host(host.decode("latin-1"))
        server = scope.get("server")
        # The address the client connected to is this machine's, whatever else it may be named.
        if name in self._allowed or (server and _is_ip(name) and name == str(server[0]).lower()):
            return None
        return ApiError(
            403,
            f"this server answers requests for its own address only, not for '{name}' "
            "(a web page reaching it through another name would be a DNS rebinding attack)",
        )


class ApiKeyCheck:
    """``Authorization: Bearer KEY`` on every request when the server has a key (compared in
    constant time). Inside CORS, so a browser's preflight, which carries no key, is answered."""

    def __init__(self, app: ASGIApp, *, api_key: str) -> None:
        self.app = app
        self._key = api_key.encode("utf-8")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not self._authorised(scope):
            error = ApiError(
                401,
                "this server needs an API key: send it as 'Authorization: Bearer KEY'",
                code="invalid_api_key",
                headers={"WWW-Authenticate": "Bearer"},
            )
            await error.response_for(scope["path"])(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _authorised(self, scope: Scope) -> bool:
        value = dict(scope["headers"]).get(b"authorization", b"")
        scheme, _, token = value.partition(b" ")
        return scheme.lower() == b"bearer" and hmac.compare_digest(token.strip(), self._key)
