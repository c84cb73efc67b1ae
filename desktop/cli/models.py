"""``hearth list``, ``rm`` and ``devices``: the library on this machine, and how a command names a model."""

from __future__ import annotations

import argparse
import sys

from desktop.cli.output import CommandFailed, model_row, print_json, table
from desktop.library.catalog import remove_model, scan_library
from desktop.library.scan import LocalModel, find_model
from desktop.units import format_bytes, format_count


def library_models() -> list[LocalModel]:
    return scan_library()


def find_local(ref: str) -> LocalModel:
    model = find_model(ref, library_models())
    if model is None:
        raise CommandFailed(f"no model '{ref}': give a path to a .gguf file or an id from `hearth list`")
    return model


def resolve_model(ref: str) -> LocalModel:
    """A model that can be loaded."""
    model = find_local(ref)
    if not model.ok:
        raise CommandFailed(f"{model.path} cannot be used: {model.reason}")
    return model


def cmd_list(args: argparse.Namespace) -> int:
    models = library_models()
    if args.json:
        print_json([model_row(m) for m in models])
        return 0
    if not models:
        print(
            "No models yet. Find one with `hearth search` and fetch it with `hearth pull`.", file=sys.stderr
        )
        return 0
    table(
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
    model = find_local(args.model)
    action, freed = remove_model(model, delete_file=args.delete_file)
    if action == "deleted":
        message = f"Deleted {model.name} ({format_bytes(freed)} freed)."
    else:
        message = (
            f"Hid {model.name} from Hearth; the file stays in {model.source}'s folder "
            "(add --delete-file to delete it)."
        )
    if args.json:
        print_json({"id": model.id, "path": str(model.path), "action": action, "freed_bytes": freed})
    else:
        print(message)
    return 0


def available_memory() -> int:
    """RAM plus free VRAM of this build's GPUs, for the fit verdicts."""
    from desktop.engine.devices import available_memory_bytes, list_devices

    try:
        return available_memory_bytes(list_devices())
    except (OSError, AttributeError):  # a build without the device API: RAM alone
        from desktop.gguf.fit import system_memory_bytes

        return system_memory_bytes()


def cmd_devices(args: argparse.Namespace) -> int:
    from desktop.engine.devices import device_rows, list_devices

    devices = list_devices()
    if args.json:
        print_json(device_rows(devices))
        return 0
    table(
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
