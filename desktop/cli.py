"""The ``hearth`` command line (contract: shared/CLI.md). Qt-free; shares the core with the GUI."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, NoReturn, TextIO

from desktop import __version__
from desktop.chats.export import export_text
from desktop.chats.store import ConversationStore
from desktop.cli_unix import Interrupted, end_streamed_line
from desktop.db import StorageError
from desktop.hub.download import DownloadError, DownloadProgress, pull
from desktop.hub.errors import HubError
from desktop.hub.files import list_files
from desktop.hub.quants import quant_report
from desktop.hub.search import SORT_KEYS, search_models
from desktop.library.catalog import remove_model, scan_library
from desktop.library.scan import LocalModel, find_model
from desktop.paths import hearth_paths
from desktop.units import format_bytes, format_count, format_duration


class CommandFailed(Exception):
    """Exit code 1, with this message on stderr after ``error: ``."""


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    return str(value.isoformat().replace("+00:00", "Z"))


def model_row(model: LocalModel) -> dict[str, Any]:
    return {
        "id": model.id,
        "name": model.name,
        "path": str(model.path),
        "source": model.source,
        "architecture": model.architecture,
        "parameters": model.parameters,
        "quant": model.quant,
        "size_bytes": model.size_bytes,
        "shards": model.shards,
        "context_length": model.context_length,
        "has_chat_template": model.has_chat_template,
        "status": model.status,
        "reason": model.reason,
    }


def _print_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2)
    sys.stdout.write("\n")


def _table(rows: Sequence[Sequence[str]], headers: Sequence[str], out: TextIO = sys.stdout) -> None:
    widths = [max(len(str(c)) for c in col) for col in zip(headers, *rows, strict=False)]
    for row in (headers, *rows):
        out.write("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=False)).rstrip() + "\n")


def _library() -> list[LocalModel]:
    return scan_library()


# Commands


def cmd_search(args: argparse.Namespace) -> int:
    found = search_models(args.query or "", sort=args.sort, limit=args.limit)
    if args.json:
        _print_json(
            [
                {
                    "repo_id": m.repo_id,
                    "downloads": m.downloads,
                    "likes": m.likes,
                    "last_modified": _iso(m.last_modified),
                    "gated": m.gated,
                }
                for m in found
            ]
        )
        return 0
    if not found:
        print("No GGUF models match.", file=sys.stderr)
        return 0
    _table(
        [
            (m.repo_id, format_count(m.downloads), format_count(m.likes), _iso(m.last_modified) or "—")
            for m in found
        ],
        ("REPO", "DOWNLOADS", "LIKES", "UPDATED"),
    )
    return 0


def cmd_files(args: argparse.Namespace) -> int:
    listing = list_files(args.repo)
    if args.json:
        _print_json(
            [{"filename": f.filename, "size_bytes": f.size_bytes, "quant": f.quant} for f in listing.files]
        )
        return 0
    _table(
        [(f.filename, format_bytes(f.size_bytes), f.quant or "") for f in listing.files],
        ("FILE", "SIZE", "QUANT"),
    )
    return 0


class _ProgressLine:
    """Download progress on stderr: redrawn in place on a terminal, a line every few seconds otherwise."""

    def __init__(self, label: str) -> None:
        self._label = label
        self._tty = sys.stderr.isatty()
        self._last = 0.0

    def __call__(self, p: DownloadProgress) -> None:
        now = time.monotonic()
        if not self._tty and now - self._last < 2.0 and p.done_bytes != p.total_bytes:
            return
        self._last = now
        pct = f"{p.fraction * 100:5.1f}%" if p.fraction is not None else "     "
        line = (
            f"{self._label}: {pct} {format_bytes(p.done_bytes)} of {format_bytes(p.total_bytes)}"
            f"  {format_bytes(p.bytes_per_second)}/s  ETA {format_duration(p.eta_seconds)}"
        )
        sys.stderr.write(("\r" + line.ljust(100)) if self._tty else line + "\n")
        sys.stderr.flush()

    def close(self) -> None:
        if self._tty:
            sys.stderr.write("\n")


def _available_memory() -> int:
    """RAM plus free VRAM of this build's GPUs, for the fit verdicts."""
    from desktop.engine.devices import available_memory_bytes, list_devices

    try:
        return available_memory_bytes(list_devices())
    except (OSError, AttributeError):  # a build without the device API: RAM alone
        from desktop.engine.fit import system_memory_bytes

        return system_memory_bytes()


def cmd_devices(args: argparse.Namespace) -> int:
    from desktop.engine.devices import device_rows, list_devices

    devices = list_devices()
    if args.json:
        _print_json(device_rows(devices))
        return 0
    _table(
        [
            (
                d.backend,
                d.name,
                d.type,
                format_bytes(d.memory_total_bytes),
                format_bytes(d.memory_free_bytes),
                d.description,
            )
            for d in devices
        ],
        ("BACKEND", "NAME", "TYPE", "MEMORY", "FREE", "DESCRIPTION"),
    )
    return 0


def cmd_quants(args: argparse.Namespace) -> int:
    report = quant_report(args.repo, available_bytes=_available_memory())
    rows: list[dict[str, Any]] = []
    for choice in report.choices:
        if choice.kind != "model":
            rows.append(
                {
                    "quant": None,
                    "kind": choice.kind,
                    "files": choice.filenames,
                    "size_bytes": choice.size_bytes,
                }
            )
            continue
        rows.append(
            {
                "quant": choice.quant,
                "files": choice.filenames,
                "size_bytes": choice.size_bytes,
                "shards": choice.shards,
                "bits_per_weight": choice.bits_per_weight(report.parameters),
                "fits": report.fit_for(choice),
                "memory_bytes": report.memory_for(choice),
                "context": report.context,
                "quality": choice.quality,
            }
        )
    if args.json:
        _print_json(rows)
        return 0
    if not report.choices:
        print(f"{args.repo} has no GGUF files.", file=sys.stderr)
        return 0
    _table(
        [
            (
                choice.name,
                format_bytes(choice.size_bytes),
                str(choice.shards) if choice.kind == "model" else "",
                f"{bpw:.2f}" if (bpw := choice.bits_per_weight(report.parameters)) else "—",
                format_bytes(report.memory_for(choice)) if choice.kind == "model" else "",
                {"fits": "fits", "tight": "tight", "no": "won't fit"}.get(
                    report.fit_for(choice) or "", "sidecar"
                ),
                choice.quality or "",
            )
            for choice in report.choices
        ],
        ("QUANT", "SIZE", "SHARDS", "BPW", f"MEMORY@{report.context}", "FITS", "QUALITY"),
    )
    return 0


def cmd_pull(args: argparse.Namespace) -> int:
    progress = _ProgressLine(args.file)

    def waiting() -> None:
        print("Another Hearth process is downloading this file; waiting for it…", file=sys.stderr)

    try:
        path = pull(args.repo, args.file, on_progress=progress, wait_for_lock=True, on_waiting=waiting)
    except KeyboardInterrupt:
        raise Interrupted("interrupted; the same `hearth pull` goes on from where this one stopped") from None
    finally:
        progress.close()
    model = find_model(str(path), _library())
    assert model is not None
    if args.json:
        _print_json(model_row(model))
    else:
        print(f"{model.name}  {model.id}  {path}")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    models = _library()
    if args.json:
        _print_json([model_row(m) for m in models])
        return 0
    if not models:
        print(
            "No models yet. Find one with `hearth search` and fetch it with `hearth pull`.", file=sys.stderr
        )
        return 0
    _table(
        [
            (
                m.id,
                m.name,
                m.architecture or "—",
                format_count(m.parameters),
                m.quant or "—",
                format_bytes(m.size_bytes),
                m.status if m.ok else f"broken: {m.reason}",
            )
            for m in models
        ],
        ("ID", "NAME", "ARCH", "PARAMS", "QUANT", "SIZE", "STATUS"),
    )
    return 0


def cmd_rm(args: argparse.Namespace) -> int:
    model = _find(args.model)
    action, freed = remove_model(model, delete_file=args.delete_file)
    if action == "deleted":
        message = f"Deleted {model.name} ({format_bytes(freed)} freed)."
    else:
        message = (
            f"Hid {model.name} from Hearth; the file stays in {model.source}'s folder "
            "(add --delete-file to delete it)."
        )
    if args.json:
        _print_json({"id": model.id, "path": str(model.path), "action": action, "freed_bytes": freed})
    else:
        print(message)
    return 0


def _find(ref: str) -> LocalModel:
    model = find_model(ref, _library())
    if model is None:
        raise CommandFailed(f"no model '{ref}': give a path to a .gguf file or an id from `hearth list`")
    return model


def _store() -> ConversationStore:
    from desktop.chats.store import NewerHistory

    try:
        return ConversationStore(hearth_paths().chats_db)
    except NewerHistory as exc:
        raise CommandFailed(str(exc)) from exc


def cmd_chats(args: argparse.Namespace) -> int:
    store = _store()
    try:
        rows = [
            {
                "id": str(c.id),
                "title": c.title,
                "model": c.model,
                "messages": store.message_count(c.id),
                "updated": c.updated,
            }
            for c in store.conversations()
        ]
    finally:
        store.close()
    if args.json:
        _print_json(rows)
    elif rows:
        _table(
            [(str(r["id"]), str(r["title"]), str(r["messages"]), str(r["updated"])) for r in rows],
            ("ID", "TITLE", "MESSAGES", "UPDATED"),
        )
    else:
        print("No conversations yet.", file=sys.stderr)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    store = _store()
    try:
        conversation = store.conversation(int(args.id)) if args.id.isdigit() else None
        if conversation is None:
            raise CommandFailed(f"no conversation '{args.id}': `hearth chats` lists them")
        messages = store.messages(conversation.id)
    finally:
        store.close()
    text = export_text(conversation, messages, args.format)
    # UTF-8 whatever the terminal's encoding, so a redirect gives the app's export byte for byte.
    sys.stdout.flush()
    sys.stdout.buffer.write(text.encode("utf-8"))
    sys.stdout.buffer.flush()
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    """One line a turn from stdin until EOF or /exit; replies stream and are kept with the app's chats."""
    from desktop.chats.chat_settings import ChatSettings
    from desktop.chats.store import ReplyRecorder
    from desktop.chats.turns import engine_messages, engine_mode
    from desktop.cli_chat import stream_reply
    from desktop.engine.client import EngineClient, EngineFailure
    from desktop.settings import load_settings

    model = resolve_model(args.model)
    store = _store()
    client = EngineClient()
    try:
        if args.continue_id:
            conversation = store.conversation(int(args.continue_id)) if args.continue_id.isdigit() else None
            if conversation is None:
                raise CommandFailed(f"no conversation '{args.continue_id}': `hearth chats` lists them")
        else:
            conversation = store.create_conversation(model=str(model.path), system_prompt=args.system or "")
        client.load(load_settings().load_options(str(model.path)))  # the engine settings the app uses
        loaded = client.wait_loaded()
        if loaded.template_note:
            print(f"note: {loaded.template_note}", file=sys.stderr)
        print(f"Chat {conversation.id} with {model.name}; /exit or end of input to stop.", file=sys.stderr)
        for line in sys.stdin:
            text = line.strip()
            if text == "/exit":
                break
            if not text:
                continue
            store.add_message(conversation.id, "user", text)
            conversation = store.conversation(conversation.id) or conversation
            settings = ChatSettings.from_dict(conversation.settings)
            sampling = replace(
                settings.effective_sampling(loaded.recommended_sampling), max_tokens=args.max_tokens
            )
            recorder = ReplyRecorder(store, conversation.id, model=str(model.path))
            request = client.chat(
                engine_messages(conversation, store.messages(conversation.id)),
                sampling,
                context_policy=settings.context_policy,
                mode=engine_mode(conversation),
            )
            stream_reply(client, request, recorder)
            sys.stdout.write("\n")
            sys.stdout.flush()
    except EngineFailure as exc:
        raise CommandFailed(str(exc)) from exc
    finally:
        client.shutdown()
        store.close()
    return 0


def cmd_template(args: argparse.Namespace) -> int:
    from desktop.engine.client import EngineClient, EngineFailure
    from desktop.engine.protocol import ChatMessage

    model = resolve_model(args.model)
    if args.messages:
        try:
            raw = json.loads(Path(args.messages).read_text(encoding="utf-8"))
            messages = [ChatMessage(str(m["role"]), str(m["content"])) for m in raw]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise CommandFailed(f"{args.messages} is not a JSON list of {{role, content}}: {exc}") from exc
    else:
        messages = [ChatMessage("system", "You are a helpful assistant."), ChatMessage("user", "Hello!")]
    client = EngineClient()
    try:
        rendered = client.render(str(model.path), messages, not args.no_generation_prompt)
    except EngineFailure as exc:
        raise CommandFailed(str(exc)) from exc
    finally:
        client.shutdown()
    if rendered.note:
        print(f"note: {rendered.note}", file=sys.stderr)
    if args.json:
        _print_json(
            {
                "prompt": rendered.prompt,
                "template_source": rendered.template_source,
                "bos_added": rendered.bos_added,
            }
        )
    else:
        sys.stdout.write(rendered.prompt)
    return 0


def resolve_model(ref: str) -> LocalModel:
    """A model that can be loaded."""
    model = _find(ref)
    if not model.ok:
        raise CommandFailed(f"{model.path} cannot be used: {model.reason}")
    return model


def cmd_run(args: argparse.Namespace) -> int:
    from desktop.engine.client import EngineClient, EngineFailure
    from desktop.engine.protocol import AUTO_GPU_LAYERS, ChatMessage, GenerationStats, LoadOptions, Sampling

    model = resolve_model(args.model)
    gpu_layers = AUTO_GPU_LAYERS if args.gpu_layers == "auto" else int(args.gpu_layers)
    client = EngineClient()
    try:
        client.load(
            LoadOptions(str(model.path), n_ctx=args.ctx or 0, n_threads=args.threads, n_gpu_layers=gpu_layers)
        )
        loaded = client.wait_loaded()
        if loaded.template_note:
            print(f"note: {loaded.template_note}", file=sys.stderr)
        if loaded.load_note and gpu_layers:
            print(f"note: {loaded.load_note}", file=sys.stderr)
        messages = [ChatMessage("system", args.system)] if args.system else []
        messages.append(ChatMessage("user", args.prompt))
        sampling = Sampling(max_tokens=args.max_tokens, temperature=args.temperature, seed=args.seed)
        request = client.chat(messages, sampling)
        stats: GenerationStats | None = None
        try:
            for event in client.stream(request):
                if isinstance(event, GenerationStats):
                    stats = event
                elif not args.json:
                    sys.stdout.write(event.text)
                    sys.stdout.flush()
        except (KeyboardInterrupt, BrokenPipeError):
            client.cancel(request)
            if not args.json:
                end_streamed_line()
            raise
        assert stats is not None
    except EngineFailure as exc:
        raise CommandFailed(str(exc)) from exc
    finally:
        client.shutdown()
    if args.json:
        _print_json(
            {
                "text": stats.text,
                "prompt_tokens": stats.prompt_tokens,
                "completion_tokens": stats.completion_tokens,
                "load_ms": loaded.load_ms,
                "ttft_ms": stats.ttft_ms,
                "prompt_tps": stats.prompt_tps,
                "gen_tps": stats.gen_tps,
                "gpu_layers": loaded.gpu_layers,
                "backend": loaded.backend,
            }
        )
    else:
        sys.stdout.write("\n")
    return 0


def cmd_self_test(args: argparse.Namespace) -> int:
    from desktop.self_test import SelfTestFailed, print_report, run_self_test

    try:
        report = run_self_test(args.model)
    except SelfTestFailed as exc:
        raise CommandFailed(f"self-test failed: {exc}") from exc
    if args.json:
        _print_json(report)
    else:
        print_report(report)
    return 0


# Parser


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be a positive number")
    return value


def _gpu_layers(text: str) -> str:
    if text == "auto" or text.lstrip("-").isdigit():
        return text
    raise argparse.ArgumentTypeError("must be a number of layers or 'auto'")


def build_parser() -> argparse.ArgumentParser:
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
    p.add_argument("--limit", type=_positive_int, default=20)

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
    p.add_argument("--max-tokens", type=_positive_int, default=512)
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
    p.add_argument("--max-tokens", type=_positive_int, default=512)
    p.add_argument("--temperature", type=float, default=0.7)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--threads", type=_positive_int, default=None)
    p.add_argument("--ctx", type=_positive_int, default=None, help="context size in tokens")
    p.add_argument(
        "--gpu-layers",
        type=_gpu_layers,
        default="auto",
        help="layers to offload to the GPU, or 'auto' (default: what fits its free memory)",
    )
    p.add_argument("--system", default=None, help="a system prompt")

    from desktop.cli_compare import add_commands

    add_commands(command)
    return parser


def fail(message: str, code: int = 1) -> NoReturn:
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(code)


def run_cli(argv: Sequence[str]) -> int:
    args = build_parser().parse_args(argv)
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
