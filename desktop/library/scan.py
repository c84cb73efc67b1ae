"""The models in Hearth's models folder (``<models>/<owner>/<repo>/<file>``).

A sharded model is one entry, found by its first part. Files that cannot be used are
listed too, as broken, with the reason.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from desktop.gguf.architectures import is_known_architecture
from desktop.gguf.fit import ModelShape, memory_needed
from desktop.gguf.header import BrokenModel, GGUFHeader, read_header
from desktop.gguf.names import (
    is_gguf,
    is_projector,
    model_name,
    own_name,
    parse_shard,
    quant_from_name,
    shard_filename,
)
from desktop.gguf.speed import TokenReads, token_reads


@dataclass(frozen=True)
class LocalModel:
    id: str
    name: str
    path: Path  # the file, or a sharded model's first part
    source: str  # "hearth" for Hearth's own models folder
    repo_id: str | None
    architecture: str | None
    parameters: int | None
    quant: str | None
    size_bytes: int
    shards: int
    context_length: int | None
    has_chat_template: bool
    status: str  # "ok" or "broken"
    reason: str | None
    shape: ModelShape | None = None  # what the KV cache size depends on
    last_used: str | None = None  # ISO 8601 UTC, when Hearth last loaded it
    # The sources of other files that look the same (same name and size): copies a person may
    # want to keep only one of; the list shows them as a hint.
    copies_in: tuple[str, ...] = ()
    model_name: str | None = None  # the file's own general.name (printable, cut), shown over replies
    # Bytes of weights read per generated token (a mixture-of-experts model reads only its
    # active experts; 0 where the header could not be read), and by kind of weight with the
    # model's shape (None where the header could not be read): what predicted speed starts from.
    bytes_per_token: int = 0
    token_reads: TokenReads | None = None

    def memory_needed(self, n_ctx: int | None = None) -> int:
        return memory_needed(self.size_bytes, self.shape, n_ctx)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_json(self) -> dict[str, Any]:
        return asdict(self) | {"path": str(self.path)}

    @classmethod
    def from_json(cls, row: dict[str, Any]) -> LocalModel:
        shape = row.get("shape")
        return cls(
            **(
                row
                | {
                    "path": Path(row["path"]),
                    "shape": ModelShape(**shape) if shape else None,
                    "copies_in": tuple(row.get("copies_in", ())),
                    "token_reads": TokenReads.from_json(row.get("token_reads")),
                }
            )
        )


def model_id_for(path: Path) -> str:
    """Stable while the file stays where it is, and short enough to type."""
    return hashlib.sha1(str(path.absolute()).encode()).hexdigest()[:10]


def _repo_id(models_dir: Path, path: Path) -> str | None:
    try:
        parts = path.relative_to(models_dir).parts
    except ValueError:
        return None
    return f"{parts[0]}/{parts[1]}" if len(parts) >= 3 else None


HeaderReader = Callable[[Path], GGUFHeader]


def describe_model(
    path: Path,
    *,
    models_dir: Path | None = None,
    source: str = "hearth",
    name: str | None = None,
    repo_id: str | None = None,
    read: HeaderReader = read_header,
) -> LocalModel:
    """Everything the library shows about one model file (a sharded model by its first part)."""
    shard = parse_shard(path.name)
    parts = [path]
    missing: list[int] = []
    if shard is not None:
        parts = []
        for number in range(1, shard.count + 1):
            part = path.with_name(shard_filename(shard, number))
            if part.is_file():
                parts.append(part)
            else:
                missing.append(number)
    size = sum(p.stat().st_size for p in parts if p.is_file())
    header: GGUFHeader | None = None
    reason: str | None = None
    parameters = 0
    weights: dict[str, list[int]] = {}  # every part's tensors, by type
    try:
        if missing:
            raise BrokenModel(
                f"shard missing: part {', '.join(map(str, missing))} of {shard.count if shard else 1}"
            )
        for part in parts:
            part_header = read(part)
            parameters += part_header.parameters
            header = header or part_header
            for kind, (size_bytes, rows) in part_header.weight_reads.items():
                summed = weights.setdefault(kind, [0, 0])
                summed[0] += size_bytes
                summed[1] += rows
        arch = header.architecture if header else None
        if arch and is_known_architecture(arch) is False:
            raise BrokenModel(f"architecture '{arch}' is unknown to this build of llama.cpp (update Hearth)")
    except BrokenModel as exc:
        reason = str(exc)
    reads = None
    if header and reason is None:
        reads = token_reads(size, header.fields, weight_reads=weights, quant=header.quant)
    return LocalModel(
        id=model_id_for(path),
        name=name or model_name(path.name),
        path=path,
        source=source,
        repo_id=repo_id or (_repo_id(models_dir, path) if models_dir else None),
        architecture=header.architecture if header else None,
        parameters=parameters if header and reason is None else None,
        quant=(header.quant if header and header.quant else quant_from_name(path.name)),
        size_bytes=size,
        shards=shard.count if shard else 1,
        context_length=header.context_length if header else None,
        has_chat_template=bool(header and header.chat_template),
        model_name=own_name(header.name) if header else None,
        bytes_per_token=reads.total if reads else 0,
        token_reads=reads,
        status="broken" if reason else "ok",
        reason=reason,
        shape=ModelShape.from_fields(header.fields) if header else None,
    )


def find_model_files(folder: Path) -> list[Path]:
    """Each model's file under a folder (a sharded model by its first part, even if missing).

    Hidden folders (download caches) and vision projectors are skipped.
    """
    if not folder.is_dir():
        return []
    firsts: list[Path] = []
    for root, dirs, files in os.walk(folder, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if not is_gguf(name) or is_projector(name) or name.startswith("."):
                continue
            shard = parse_shard(name)
            if shard is not None and shard.number != 1:
                first = Path(root) / shard_filename(shard, 1)
                if not first.exists() and first not in firsts:
                    firsts.append(first)  # part 1 is missing: still one (broken) entry
                continue
            firsts.append(Path(root) / name)
    return firsts


def scan_models_dir(models_dir: Path, read: HeaderReader = read_header) -> list[LocalModel]:
    """Every model in Hearth's own models folder, sorted by repo and name."""
    models = [describe_model(p, models_dir=models_dir, read=read) for p in find_model_files(models_dir)]
    return sorted(models, key=lambda m: (m.repo_id or "", m.name.lower()))


def find_model(ref: str, models: list[LocalModel]) -> LocalModel | None:
    """A model by its id, or by a path to the file (or to any shard of it)."""
    for model in models:
        if model.id == ref:
            return model
    candidate = Path(ref).expanduser()
    if candidate.exists():
        resolved = candidate.resolve()
        for model in models:
            if model.path.resolve() == resolved:
                return model
        return describe_model(resolved, source="folder")
    return None


def model_files(model: LocalModel) -> list[Path]:
    """Every file of a model on disk (all parts of a sharded one)."""
    shard = parse_shard(model.path.name)
    if shard is None:
        return [model.path] if model.path.exists() else []
    parts = (model.path.with_name(shard_filename(shard, n)) for n in range(1, shard.count + 1))
    return [p for p in parts if p.exists()]
