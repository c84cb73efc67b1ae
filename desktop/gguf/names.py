"""What a GGUF file's name says: its quantisation label and its shard position.

Real repos bend the naming convention (``model.Q4_K_M.gguf``, ``model-q4_k_m.gguf``,
``Model-UD-Q4_K_XL.gguf``, ``fp16``), so names are parsed leniently; the header's
``general.file_type`` is trusted over the name once a file is on disk.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath

from desktop.safe_text import printable

_QUANT = re.compile(
    r"(?:^|[-._/])"
    r"(?P<label>(?:UD-)?(?:I?Q\d(?:_[0-9A-Z]+)*|TQ\d_\d|MXFP4(?:_MOE)?|BF16|FP16|F16|FP32|F32))"
    r"(?=$|[-._])",
    re.IGNORECASE,
)
_SHARD = re.compile(r"-(?P<no>\d{5})-of-(?P<count>\d{5})\.gguf$", re.IGNORECASE)

_CANONICAL = {"FP16": "F16", "FP32": "F32"}


@dataclass(frozen=True)
class ShardName:
    stem: str  # the name without the shard suffix, shared by all parts
    number: int  # 1-based
    count: int


def parse_shard(filename: str) -> ShardName | None:
    m = _SHARD.search(filename)
    if m is None:
        return None
    number, count = int(m["no"]), int(m["count"])
    if not 1 <= number <= count:
        return None
    return ShardName(stem=filename[: m.start()], number=number, count=count)


def shard_filename(shard: ShardName, number: int) -> str:
    return f"{shard.stem}-{number:05d}-of-{shard.count:05d}.gguf"


def model_name(path: str) -> str:
    """The one name Hearth shows for a model file: its file name without `.gguf` or a shard's
    `-00001-of-00003` (a path from any system, as stored in a chat, or a bare name)."""
    filename = path.replace("\\", "/").rsplit("/", 1)[-1]
    shard = parse_shard(filename)
    if shard is not None:
        return shard.stem
    return filename[: -len(".gguf")] if is_gguf(filename) else filename


def is_gguf(filename: str) -> bool:
    return filename.lower().endswith(".gguf")


def is_projector(filename: str) -> bool:
    """Vision projectors are sidecars of a model, never models themselves."""
    return PurePosixPath(filename).name.lower().startswith("mmproj")


def quant_from_name(filename: str) -> str | None:
    """The quantisation label a file name carries, upper-case, or None."""
    if not is_gguf(filename) or is_projector(filename):
        return None
    name = PurePosixPath(filename).name
    shard = parse_shard(name)
    stem = shard.stem if shard else name[: -len(".gguf")]
    matches = list(_QUANT.finditer(stem))
    if not matches:
        return None
    label = matches[-1]["label"].upper()
    return _CANONICAL.get(label, label)


OWN_NAME_CHARS = 80  # a model's own name as shown over its replies: a hostile file's is cut


def own_name(general_name: str | None) -> str | None:
    """A file's ``general.name`` as a person may be shown it: printable, at most 80 characters."""
    return printable(general_name or "")[:OWN_NAME_CHARS].strip() or None
