"""The ``hearth`` command line (contract: shared/CLI.md): its parser and how a command ends.

Qt-free; every command group adapts the core the window uses too.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from desktop import __version__
from desktop.cli.chats import cmd_chat, cmd_chats, cmd_export, cmd_run, cmd_template
from desktop.cli.hub import cmd_files, cmd_pull, cmd_quants, cmd_search
from desktop.cli.models import cmd_devices, cmd_list, cmd_rm
from desktop.cli.output import CommandFailed, fail, gpu_layers_arg, positive_int, print_json
from desktop.cli.serve import ServeRunner, add_serve_command
from desktop.db import StorageError
from desktop.hub.download import DownloadError
from desktop.hub.errors import HubError
from desktop.hub.search import SORT_KEYS


def cmd_self_test(args: argparse.Namespace) -> int:
    from desktop.self_test import SelfTestFailed, print_report, run_self_test

    try:
        report = run_self_test(args.model)
    except SelfTestFailed as exc:
        raise CommandFailed(f"self-test failed: {exc}") from exc
    if args.json:
        print_json(report)
    else:
        print_report(report)
    return 0


def build_parser(serve: ServeRunner | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hearth",
        description="Run open language models offline. With no command, the app opens.",
    )
    parser.add_argument("--version", action="version", version=f"hearth {__version__}")
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="load a tiny model made on the spot (or --model), write a few tokens, exit 0 if all works",
    )
    parser.add_argument("--model", metavar="PATH", help="with --self-test: a model file to load instead")
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def command(name: str, func: Callable[[argparse.Namespace], int], help: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help)
        p.add_argument("--json", action="store_true", help="print one JSON document on stdout")
        p.set_defaults(func=func)
        return p

    p = command("search", cmd_search, "Search the Hugging Face Hub for GGUF models.")
    p.add_argument("query", nargs="?", default="", help="words in the repo name (empty: all GGUF repos)")
    p.add_argument("--sort", choices=SORT_KEYS, default="downloads")
    p.add_argument("--limit", type=positive_int, default=20)

    p = command("files", cmd_files, "List every file of a Hub repository, with size and quantisation.")
    p.add_argument("repo", help="owner/name")

    p = command(
        "quants", cmd_quants, "List a Hub repository's quantisations and whether each fits this machine."
    )
    p.add_argument("repo", help="owner/name")

    p = command("pull", cmd_pull, "Download a model from the Hub into the library (resumable, verified).")
    p.add_argument("repo", help="owner/name")
    p.add_argument(
        "file", metavar="FILENAME|QUANT", help="a file name from `hearth files REPO`, or a quant (Q4_K_M)"
    )

    command("list", cmd_list, "List the models in the library.")
    p = command("chat", cmd_chat, "Chat with a model, one line a turn; kept with the app's conversations.")
    p.add_argument("model", metavar="MODEL", help="a path or an id from `hearth list`")
    p.add_argument("--system", default=None, help="a system prompt for a new conversation")
    p.add_argument("--continue", dest="continue_id", metavar="ID", help="go on with this conversation")
    p.add_argument("--max-tokens", type=positive_int, default=512)
    command("chats", cmd_chats, "List conversations, newest first.")
    p = command("template", cmd_template, "Print the exact prompt a model's chat template makes.")
    p.add_argument("model", metavar="MODEL", help="a path or an id from `hearth list`")
    p.add_argument("--messages", metavar="FILE", help="a JSON list of {role, content}")
    p.add_argument("--no-generation-prompt", action="store_true", help="leave out the assistant's opening")
    p = command("export", cmd_export, "Write a conversation to stdout as Markdown or JSON.")
    p.add_argument("id", metavar="ID", help="a conversation id from `hearth chats`")
    p.add_argument("--format", choices=("md", "json"), default="md")

    p = command("rm", cmd_rm, "Remove a model Hearth owns; hide one that another app keeps.")
    p.add_argument("model", metavar="MODEL", help="a path or an id from `hearth list`")
    p.add_argument("--delete-file", action="store_true", help="also delete another app's file")
    command("devices", cmd_devices, "List the compute devices of this llama.cpp build, with their memory.")

    p = command("run", cmd_run, "Load a model and answer one prompt.")
    p.add_argument("model", metavar="MODEL", help="a path to a .gguf file or an id from `hearth list`")
    p.add_argument("prompt", metavar="PROMPT")
    p.add_argument("--max-tokens", type=positive_int, default=512)
    p.add_argument("--temperature", type=float, default=0.7)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--threads", type=positive_int, default=None)
    p.add_argument("--ctx", type=positive_int, default=None, help="context size in tokens")
    p.add_argument(
        "--gpu-layers",
        type=gpu_layers_arg,
        default="auto",
        help="layers to offload to the GPU, or 'auto' (default: what fits its free memory)",
    )
    p.add_argument("--system", default=None, help="a system prompt")
    p.add_argument(
        "--json-schema",
        type=Path,
        default=None,
        metavar="FILE",
        help="a JSON schema the reply must validate against (enforced by a grammar)",
    )

    from desktop.cli.compare import add_commands

    add_commands(command)
    add_serve_command(command, serve)
    return parser


def run_cli(argv: Sequence[str], serve: ServeRunner | None = None) -> int:
    """``serve`` runs ``hearth serve``'s server (the entry point hands it in: the command line
    does not import another front end)."""
    args = build_parser(serve).parse_args(argv)
    func: Callable[[argparse.Namespace], int] | None = (
        cmd_self_test if args.self_test else getattr(args, "func", None)
    )
    if func is None:
        fail("no command given", 2)
    from desktop.settings import settings_problem

    if (problem := settings_problem()) is not None:  # defaults this run; the file is kept
        print(f"warning: {problem}", file=sys.stderr)
    try:
        return func(args)
    except (CommandFailed, HubError, DownloadError, StorageError) as exc:
        fail(str(exc))
