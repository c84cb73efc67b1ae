"""Making another quant of a model with llama.cpp's own quantizer (``llama_model_quantize``).

Runs in the engine worker: a quantizer that aborts on a damaged file takes only that process
down. The output is written beside its final name and renamed into place when complete, so
a cancelled or failed run never leaves a half-written model where the library would list it.
"""

from __future__ import annotations

import ctypes
import os
import re
import shutil
from pathlib import Path

from desktop.units import format_bytes

# What people make from an F16/BF16/Q8_0 build, largest first.
QUANT_TYPES = (
    "Q8_0",
    "Q6_K",
    "Q5_K_M",
    "Q5_K_S",
    "Q5_0",
    "Q4_K_M",
    "Q4_K_S",
    "Q4_0",
    "IQ4_XS",
    "Q3_K_L",
    "Q3_K_M",
    "Q3_K_S",
    "Q2_K",
)
SOURCE_TYPES = ("F32", "F16", "BF16", "Q8_0")
# The tensor type most of each kind's weights get; its mix gives some tensors more bits, so a
# model of that type alone is the least the output can take.
_MAIN_TENSOR_TYPE = {
    "Q5_K_M": "Q5_K",
    "Q5_K_S": "Q5_K",
    "Q4_K_M": "Q4_K",
    "Q4_K_S": "Q4_K",
    "Q3_K_L": "Q3_K",
    "Q3_K_M": "Q3_K",
    "Q3_K_S": "Q3_K",
}
_SLACK_BYTES = 1024 * 1024  # free space below this after a failed write: the write hit the end
_TENSOR_LINE = re.compile(r"\[\s*(\d+)\s*/\s*(\d+)\s*\]")


class QuantizeError(Exception):
    """A quantization that could not be made, in words fit to show."""


def output_name(source: Path, type_name: str) -> str:
    """``Model-F16.gguf`` → ``Model-Q4_K_M.gguf``; a name without a type gets one added."""
    from desktop.gguf.names import quant_from_name

    stem = source.name.removesuffix(".gguf")
    found = quant_from_name(source.name)
    if found and found.upper() in stem.upper():
        at = stem.upper().rindex(found.upper())
        return f"{stem[:at]}{type_name}{stem[at + len(found) :]}.gguf"
    return f"{stem}-{type_name}.gguf"


def target_for(source: Path, models_dir: Path, type_name: str) -> Path:
    """Beside its source in Hearth's models folder; for a source elsewhere, under local/quantized/."""
    from desktop.library.importing import IMPORTED_FOLDER

    name = output_name(source, type_name)
    if source.resolve().is_relative_to(models_dir.resolve()):
        return source.with_name(name)
    return models_dir / IMPORTED_FOLDER / "quantized" / name


def tensor_progress(log_line: str) -> float | None:
    """The fraction done from one of the quantizer's ``[ 12/ 201] blk.0.attn_k.weight`` lines."""
    match = _TENSOR_LINE.search(log_line)
    if not match or int(match.group(2)) == 0:
        return None
    return int(match.group(1)) / int(match.group(2))


def partial_path(target: Path) -> Path:
    """Where the output is written until it is complete; never listed by the library."""
    return target.with_name(target.name + ".partial")


def least_output_bytes(parameters: int, type_name: str) -> int:
    """The smallest the output of ``type_name`` can be: every weight at its main type's size."""
    from gguf import GGML_QUANT_SIZES, GGMLQuantizationType

    block, size = GGML_QUANT_SIZES[GGMLQuantizationType[_MAIN_TENSOR_TYPE.get(type_name, type_name)]]
    return parameters * size // block


def _free_bytes(folder: Path) -> int:
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return shutil.disk_usage(folder).free


def _too_little_room(target: Path, needed: int) -> QuantizeError:
    return QuantizeError(
        f"Not enough disk space: {target.parent} has {format_bytes(_free_bytes(target.parent))} free "
        f"and {target.name} needs at least {format_bytes(needed)}. Free some space or write the "
        "quant to another folder."
    )


def _disk_full(target: Path, needed: int) -> QuantizeError:
    return QuantizeError(
        f"The disk is full: {target.parent} ran out of space while {target.name} (at least "
        f"{format_bytes(needed)}) was being written. What was written is removed; free some space "
        "or write the quant to another folder."
    )


def quantize(source: Path, target: Path, type_name: str, threads: int) -> None:
    import llama_cpp as ll

    from desktop.gguf.header import BrokenModel, read_header

    if type_name not in QUANT_TYPES:
        raise QuantizeError(f"Hearth does not make {type_name}; choose one of {', '.join(QUANT_TYPES)}.")
    if target.exists():
        raise QuantizeError(f"{target.name} is already there.")
    try:
        needed = least_output_bytes(read_header(source).parameters, type_name)
    except BrokenModel as exc:
        raise QuantizeError(f"Hearth could not quantize {source.name} to {type_name}: {exc}.") from None
    # Refused before anything is written when the folder plainly cannot take it.
    if target.parent.is_dir() and not os.access(target.parent, os.W_OK):
        raise QuantizeError(f"{target.parent} cannot be written to; write the quant to another folder.")
    if _free_bytes(target.parent) < needed:
        raise _too_little_room(target, needed)
    partial = partial_path(target)
    params = ll.llama_model_quantize_default_params()
    params.nthread = threads
    params.ftype = getattr(ll, f"LLAMA_FTYPE_MOSTLY_{type_name}")
    params.allow_requantize = True  # a Q8_0 source is quantized data already
    try:
        status = ll.llama_model_quantize(str(source).encode(), str(partial).encode(), ctypes.byref(params))
        if status != 0:
            # llama.cpp says only "iostream error" when a write fails: a folder left with less
            # than the rest of the output needs is a full disk.
            written = partial.stat().st_size if partial.exists() else 0
            if _free_bytes(target.parent) < max(needed - written, _SLACK_BYTES):
                raise _disk_full(target, needed)
            raise QuantizeError(f"llama.cpp could not quantize {source.name} to {type_name}.")
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
