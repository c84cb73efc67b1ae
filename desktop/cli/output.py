"""Output, errors and argument types shared by every command group."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any, NoReturn, TextIO

from desktop.library.scan import LocalModel


class CommandFailed(Exception):
    """Exit code 1, with this message on stderr after ``error: ``."""


def fail(message: str, code: int = 1) -> NoReturn:
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(code)


def iso_time(value: Any) -> str | None:
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


def print_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2)
    sys.stdout.write("\n")


def table(rows: Sequence[Sequence[str]], headers: Sequence[str], out: TextIO = sys.stdout) -> None:
    widths = [max(len(str(c)) for c in col) for col in zip(headers, *rows, strict=False)]
    for row in (headers, *rows):
        out.write("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=False)).rstrip() + "\n")


def positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be a positive number")
    return value


def gpu_layers_arg(text: str) -> str:
    if text == "auto" or text.lstrip("-").isdigit():
        return text
    raise argparse.ArgumentTypeError("must be a number of layers or 'auto'")
