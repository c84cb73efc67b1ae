"""``hearth list``, ``rm`` and ``devices``: the library on this machine, and how a command names a model."""

from __future__ import annotations

import argparse
import sys

from desktop.cli.output import CommandFailed, model_row, print_json, table
from desktop.gguf.speed import MachineSpeed
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


def this_machine(*, quiet: bool) -> MachineSpeed:
    """This computer's speed for the predictions, measured once (a few seconds, saying so on
    stderr unless ``quiet``) and kept in the cache folder."""
    from desktop.app.machine_speed import machine_speed
    from desktop.engine.devices import gpu_memory_bytes, list_devices
    from desktop.paths import hearth_paths

    try:
        gpu_free = gpu_memory_bytes(list_devices())
    except (OSError, AttributeError):  # a build without the device API: the CPU alone
        gpu_free = 0

    def say(text: str) -> None:
        print(text + "…", file=sys.stderr, flush=True)

    return machine_speed(hearth_paths(), gpu_free_bytes=gpu_free, progress=None if quiet else say)


def predicted_speeds(models: list[LocalModel], machine: MachineSpeed) -> list[float | None]:
    from desktop.gguf.header_cache import HeaderCache
    from desktop.library.predicted import predicted_for_model
    from desktop.paths import hearth_paths

    headers = HeaderCache.open_or_none(hearth_paths().header_cache_db)
    try:
        return [predicted_for_model(m, machine, headers=headers) for m in models]
    finally:
        headers.close()


def _rounded(tps: float | None) -> float | None:
    return round(tps, 1) if tps is not None else None


def cmd_list(args: argparse.Namespace) -> int:
    models = library_models()
    speeds = predicted_speeds(models, this_machine(quiet=args.json)) if models else []
    if args.json:
        print_json(
            [
                model_row(m) | {"predicted_tg_tps": _rounded(tps)}
                for m, tps in zip(models, speeds, strict=True)
            ]
        )
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
                f"{tps:.1f}" if tps is not None else "—",
                m.status if m.ok else f"broken: {m.reason}",
            )
            for m, tps in zip(models, speeds, strict=True)
        ],
        ("ID", "NAME", "ARCH", "PARAMS", "QUANT", "SIZE", "TOK/S", "STATUS"),
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
