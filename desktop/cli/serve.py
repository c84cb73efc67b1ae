"""``hearth serve``: its flags, turned into a ServerConfig for the HTTP server, which the
program's entry point hands in (a front end does not import another)."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from pathlib import Path

from desktop.app.server_config import DEFAULT_HOST, DEFAULT_PORT, ServeFailed, ServerConfig
from desktop.cli.models import resolve_model
from desktop.cli.output import CommandFailed

ServeRunner = Callable[[ServerConfig], int]
CommandAdder = Callable[[str, Callable[[argparse.Namespace], int], str], argparse.ArgumentParser]


def add_serve_command(command: CommandAdder, runner: ServeRunner | None) -> None:
    def cmd_serve(args: argparse.Namespace) -> int:
        if runner is None:
            raise CommandFailed("this copy of Hearth was started without its server")
        try:
            return runner(server_config(args))
        except ServeFailed as exc:
            raise CommandFailed(str(exc)) from exc

    p = command(
        "serve",
        cmd_serve,
        "Serve the library's models to other programs through OpenAI's and Ollama's APIs, "
        "until SIGTERM or Ctrl+C.",
    )
    p.add_argument("--host", default=DEFAULT_HOST, help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=_port, default=DEFAULT_PORT, help="port (default 5151; 0: any free one)")
    key = p.add_mutually_exclusive_group()
    key.add_argument("--api-key", metavar="KEY", help="require 'Authorization: Bearer KEY'")
    key.add_argument("--api-key-file", metavar="F", help="the API key, read from a file")
    p.add_argument(
        "--model",
        metavar="MODEL",
        action="append",
        default=[],
        help="load this model before serving (a path or an id from `hearth list`; repeatable)",
    )
    p.add_argument(
        "--cors-origin",
        metavar="ORIGIN",
        action="append",
        default=[],
        help="let web pages from this origin call the API (repeatable; default none)",
    )
    p.add_argument(
        "--idle-unload",
        metavar="MIN",
        type=float,
        default=None,
        help="unload a model unused for this many minutes (default: the app's setting; 0: never)",
    )


def _port(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError("must be a port number, 0 to 65535")
    return value


def server_config(args: argparse.Namespace) -> ServerConfig:
    from desktop.settings import load_settings

    settings = load_settings()
    minutes = settings.unload_after_minutes if args.idle_unload is None else args.idle_unload
    config = ServerConfig(
        host=args.host,
        port=args.port,
        api_key=_api_key(args),
        preload=tuple(resolve_model(ref) for ref in args.model),
        cors_origins=tuple(args.cors_origin),
        idle_unload_s=minutes * 60 if minutes > 0 else math.inf,
        queue_length=settings.server_queue_length,
    )
    if (refusal := config.refusal()) is not None:
        raise CommandFailed(refusal)
    return config


def _api_key(args: argparse.Namespace) -> str | None:
    if args.api_key_file:
        try:
            key = Path(args.api_key_file).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandFailed(f"cannot read the API key from {args.api_key_file}: {exc}") from exc
        if not key:
            raise CommandFailed(f"{args.api_key_file} is empty: put the API key in it")
        return key
    if args.api_key is not None and not args.api_key.strip():
        raise CommandFailed("the API key is empty")
    return args.api_key.strip() if args.api_key else None
