"""``hearth chat``, ``run``, ``template``, ``chats`` and ``export``: conversations."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from desktop.chats.export import export_text
from desktop.chats.store import ConversationStore
from desktop.cli.models import resolve_model
from desktop.cli.output import CommandFailed, print_json, table
from desktop.cli.unix import end_streamed_line
from desktop.paths import hearth_paths


def open_history() -> ConversationStore:
    from desktop.chats.store import NewerHistory

    try:
        return ConversationStore(hearth_paths().chats_db)
    except NewerHistory as exc:
        raise CommandFailed(str(exc)) from exc


def cmd_chats(args: argparse.Namespace) -> int:
    store = open_history()
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
        print_json(rows)
    elif rows:
        table(
            [(str(r["id"]), str(r["title"]), str(r["messages"]), str(r["updated"])) for r in rows],
            ("ID", "TITLE", "MESSAGES", "UPDATED"),
        )
    else:
        print("No conversations yet.", file=sys.stderr)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    store = open_history()
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
    from desktop.app.chat_session import ChatSession
    from desktop.app.client_engine import ClientEngine
    from desktop.cli.chat_stream import ChatOutput
    from desktop.engine.client import EngineFailure
    from desktop.engine.protocol import LoadOptions
    from desktop.settings import load_settings

    model = resolve_model(args.model)
    store = open_history()
    output = ChatOutput()
    engine = ClientEngine.started()
    try:
        session = ChatSession(store, engine, output.events())
        session.max_tokens = args.max_tokens
        if args.continue_id and not (args.continue_id.isdigit() and session.open(int(args.continue_id))):
            raise CommandFailed(f"no conversation '{args.continue_id}': `hearth chats` lists them")
        loaded = engine.load(LoadOptions.from_settings(load_settings(), str(model.path)))  # as the app does
        if not args.continue_id:
            session.new_chat()
            session.update_settings(args.system or "", session.settings)
        session.on_loaded(loaded)
        assert session.conversation is not None
        print(
            f"Chat {session.conversation.id} with {model.name}; /exit or end of input to stop.",
            file=sys.stderr,
        )
        for line in sys.stdin:
            text = line.strip()
            if text == "/exit":
                break
            if text and session.send(text):
                output.stream(engine, session)
    except EngineFailure as exc:
        raise CommandFailed(str(exc)) from exc
    finally:
        engine.client.shutdown()
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
        print_json(
            {
                "prompt": rendered.prompt,
                "template_source": rendered.template_source,
                "bos_added": rendered.bos_added,
            }
        )
    else:
        sys.stdout.write(rendered.prompt)
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from desktop.engine.client import EngineClient, EngineFailure
    from desktop.engine.protocol import AUTO_GPU_LAYERS, ChatMessage, GenerationStats, LoadOptions, Sampling

    model = resolve_model(args.model)
    json_schema = _read_schema(args.json_schema) if args.json_schema else ""
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
        sampling = Sampling(
            max_tokens=args.max_tokens, temperature=args.temperature, seed=args.seed, json_schema=json_schema
        )
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
        print_json(
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
    if json_schema and stats.stop_reason != "stop":
        raise CommandFailed(
            f"the reply ended ({stats.stop_reason}) before its JSON was complete: raise --max-tokens"
        )
    return 0


_SCHEMA_BYTES = 1024 * 1024


def _read_schema(path: Path) -> str:
    """The schema in FILE, checked for what the grammar can enforce, as JSON text."""
    from desktop.engine.json_schema import UnsupportedSchema, parse_schema

    try:
        with path.open("rb") as file:
            data = file.read(_SCHEMA_BYTES + 1)
    except OSError as exc:
        raise CommandFailed(f"cannot read {path}: {exc.strerror or exc}") from exc
    if len(data) > _SCHEMA_BYTES:
        raise CommandFailed(f"{path} is larger than 1 MB: not a JSON schema Hearth will read")
    try:
        return parse_schema(json.loads(data))
    except ValueError as exc:  # bad JSON, bad UTF-8 and UnsupportedSchema alike
        what = "" if isinstance(exc, UnsupportedSchema) else "not valid JSON: "
        raise CommandFailed(f"{path}: {what}{exc}") from exc
