"""Facts about a model read from its GGUF header, without loading tensor data.

A small parser of its own rather than ``gguf.GGUFReader``: the reader builds a Python
object for every element of every array, which takes about 24 s for one header with a
262,144-token vocabulary (Gemma 3); here arrays are skipped over in bulk and the same
header reads in a fraction of a second. Type sizes come from the ``gguf`` package, imported
when a header is first read (it brings numpy: about a third of a second the window's start
does not need).
"""

from __future__ import annotations

import functools
import mmap
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MAGIC = b"GGUF"
DEFAULT_ALIGNMENT = 32
_MAX_COUNT = 10_000_000  # more keys or tensors than this is a corrupt header, not a model
# GGUF allows arrays of arrays; none deeper than this is a model, and the reader recurses.
_MAX_NESTING = 8
_MAX_KEPT = 1_000_000  # array values kept in all; longer arrays beyond it are summarised
_MAX_KEYS = 65_536  # a model has a few dozen; more is a corrupt header
# llama.cpp wants a power of two; it pads the header to it, so nothing sane is bigger.
_MAX_ALIGNMENT = 1 << 30

# GGUF value types
_SCALARS: dict[int, str] = {
    0: "<B",
    1: "<b",
    2: "<H",
    3: "<h",
    4: "<I",
    5: "<i",
    6: "<f",
    7: "<?",
    10: "<Q",
    11: "<q",
    12: "<d",
}
_STRING = 8
_ARRAY = 9


class BrokenModel(Exception):
    """The file cannot be used; the message says why in plain words."""


@dataclass(frozen=True)
class ArraySummary:
    """A long array in the header (a vocabulary, say), summarised rather than kept."""

    item_type: int
    count: int


@dataclass(frozen=True)
class GGUFHeader:
    architecture: str | None
    name: str | None
    parameters: int  # this file's tensors only (a shard holds part of the model)
    quant: str | None  # from general.file_type
    context_length: int | None
    block_count: int | None
    chat_template: str | None
    split_count: int  # 1 for a model in one file
    data_end: int  # bytes the tensors need; a shorter file is truncated
    version: int = 3
    fields: dict[str, Any] = field(default_factory=dict, repr=False)
    # What writing one token reads, by tensor type name: [bytes, rows] of the weight matrices
    # (desktop/gguf/speed.py predicts speed from it). Empty when unknown (a header cached by an
    # older Hearth).
    weight_reads: dict[str, list[int]] = field(default_factory=dict, repr=False)


@functools.cache
def _quant_sizes() -> dict[int, tuple[int, int]]:
    """(block size, bytes per block) by tensor type id, from the ``gguf`` package."""
    from gguf import GGML_QUANT_SIZES

    return {int(kind): sizes for kind, sizes in GGML_QUANT_SIZES.items()}


@functools.cache
def _tensor_type_names() -> dict[int, str]:
    from gguf import GGMLQuantizationType

    return {int(kind): kind.name for kind in GGMLQuantizationType}


@functools.cache
def _file_type_names() -> dict[int, str]:
    from gguf import LlamaFileType

    return {int(kind): kind.name for kind in LlamaFileType}


def warm_up() -> None:
    """Imports the gguf tables now (a process that will read headers can do it while idle)."""
    _quant_sizes()
    _file_type_names()


def file_type_label(file_type: int | None) -> str | None:
    if file_type is None:
        return None
    name = _file_type_names().get(file_type)
    if name is None:
        return None
    if name == "GUESSED":
        return None
    return name.removeprefix("MOSTLY_").removeprefix("ALL_")


_U64 = struct.Struct("<Q")


class _Cursor:
    def __init__(self, buf: mmap.mmap | bytes | bytearray) -> None:
        self.buf = buf
        self.pos = 0
        self.kept = 0  # array values kept as Python objects so far

    def unpack(self, fmt: str) -> Any:
        value = struct.unpack_from(fmt, self.buf, self.pos)[0]
        self.pos += struct.calcsize(fmt)
        return value

    def count(self) -> int:
        n = int(self.unpack("<Q"))
        if n > _MAX_COUNT:
            raise BrokenModel(f"truncated or corrupt header (a count of {n:,})")
        return n

    def string(self) -> str:
        n = self.count()
        if self.pos + n > len(self.buf):
            raise struct.error("string runs past the end of the file")
        raw = self.buf[self.pos : self.pos + n]
        self.pos += n
        return bytes(raw).decode("utf-8", "replace")

    def skip_string(self) -> None:
        n = self.count()
        self.pos += n

    def skip_strings(self, n: int) -> None:
        """``n`` strings stepped over in one tight loop: a vocabulary is a quarter of a million."""
        buf, pos, end, length_at = self.buf, self.pos, len(self.buf), _U64.unpack_from
        for _ in range(n):
            length = length_at(buf, pos)[0]
            if length > _MAX_COUNT:
                raise BrokenModel(f"truncated or corrupt header (a string of {length:,} bytes)")
            pos += 8 + length
        if pos > end:
            raise struct.error("a string runs past the end of the file")
        self.pos = pos

    def value(self, kind: int) -> Any:
        if kind in _SCALARS:
            return self.unpack(_SCALARS[kind])
        if kind == _STRING:
            return self.string()
        if kind == _ARRAY:
            return self.array(0)
        raise BrokenModel(f"truncated or corrupt header (value of unknown type {kind})")

    def array(self, depth: int) -> Any:
        """An array's values when short enough to keep, else its summary; arrays may nest."""
        if depth >= _MAX_NESTING:
            raise BrokenModel(f"corrupt header (arrays nested more than {_MAX_NESTING} deep)")
        item = int(self.unpack("<I"))
        n = self.count()
        # Values are kept for the top level and one level of nesting, within a budget, so a
        # hostile header cannot turn its bytes into many times their size in Python objects.
        keep = depth <= 1 and self.kept + n <= _MAX_KEPT
        if item in _SCALARS:
            fmt = _SCALARS[item]
            width = struct.calcsize(fmt)
            if keep and n <= 4096:  # per-layer values and the like (vocabularies are not numbers)
                values = list(struct.unpack_from(f"<{n}{fmt[1]}", self.buf, self.pos))
                self.pos += width * n
                self.kept += n
                return values
            self.pos += width * n
        elif item == _STRING:
            if keep and n <= 16:
                self.kept += n
                return [self.string() for _ in range(n)]
            self.skip_strings(n)
        elif item == _ARRAY:
            # Each element carries its own type and count, so even a long one is walked.
            if keep and n <= 16:
                self.kept += n
                return [self.array(depth + 1) for _ in range(n)]
            for _ in range(n):
                self.array(depth + 1)
        else:
            raise BrokenModel(f"truncated or corrupt header (array of unknown type {item})")
        if self.pos > len(self.buf):
            raise struct.error("array runs past the end of the file")
        return ArraySummary(item, n)


def _tensor_bytes(type_id: int, elements: int) -> int:
    sizes = _quant_sizes().get(type_id)
    if sizes is None:
        raise BrokenModel(f"uses a tensor type this version does not know (type {type_id})")
    block, size = sizes
    return elements // block * size


def read_header(path: Path) -> GGUFHeader:
    try:
        size = path.stat().st_size
        with path.open("rb") as f:
            if size == 0:
                raise BrokenModel("empty file")
            if f.read(4) != MAGIC:
                raise BrokenModel("not a GGUF file")
            with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as buf:
                return _parse(buf, size)
    except BrokenModel:
        raise
    except struct.error as exc:
        raise BrokenModel(f"truncated: the file ends inside its header, after {size:,} bytes") from exc
    except (IndexError, OverflowError, ValueError) as exc:
        raise BrokenModel(f"truncated or corrupt header ({exc})") from exc
    except OSError as exc:
        raise BrokenModel(f"cannot read the file: {exc.strerror or exc}") from exc


class NeedMoreBytes(Exception):
    """The key-value section goes on past the bytes given."""


CHAT_TEMPLATE_KEY = "tokenizer.chat_template"
_PREAMBLE = 4 + 4 + 8 + 8  # magic, version, tensor count, key-value count


@dataclass(frozen=True)
class HeaderStart:
    """The key-value pairs found in the first bytes of a GGUF file, and whether they were all."""

    fields: dict[str, Any]
    complete: bool  # every pair was in the bytes given
    # Where reading stopped (the next pair's offset; 0 before the counts were read), how many
    # pairs are left and how many array values were kept: ``read_fields_from`` goes on from here.
    end: int = 0
    pairs_left: int = 0
    kept: int = 0

    @property
    def has_chat_template(self) -> bool | None:
        """Whether the file has a chat template; None while it may still lie past the bytes read.

        ``tokenizer.chat_template`` comes after the vocabulary (several MB for a large one), so
        the first bytes often hold the model's shape but not yet this."""
        if CHAT_TEMPLATE_KEY in self.fields:
            return _usable_template(self.fields[CHAT_TEMPLATE_KEY]) is not None
        return False if self.complete else None


def _usable_template(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def read_fields(head: bytes) -> dict[str, Any]:
    """The key-value fields from the first bytes of a GGUF file (a Range request's worth)."""
    start = read_fields_from(head)
    if not start.complete:
        raise NeedMoreBytes
    return start.fields


def read_fields_from(head: bytes | bytearray, after: HeaderStart | None = None) -> HeaderStart:
    """The key-value pairs in ``head``, the first bytes of a GGUF file, as far as they go.

    ``after``, a previous answer for fewer of the same bytes, is gone on from rather than read
    again: bytes that arrive piece by piece are read once, but for a pair cut off by the end.
    """
    if head[:4] != MAGIC:
        raise BrokenModel("not a GGUF file")
    cur = _Cursor(head)
    if after is None or after.end == 0:
        if len(head) < _PREAMBLE:
            return HeaderStart({}, complete=False)
        cur.pos = 4
        _version, _n_tensors, n_kv = _preamble(cur)
        fields: dict[str, Any] = {}
    else:
        cur.pos, cur.kept, n_kv, fields = after.end, after.kept, after.pairs_left, dict(after.fields)
    return _read_pairs(cur, fields, n_kv)


def _preamble(cur: _Cursor) -> tuple[int, int, int]:
    version = int(cur.unpack("<I"))
    if version not in (2, 3):
        raise BrokenModel(f"GGUF version {version} is not supported")
    n_tensors = cur.count()
    n_kv = cur.count()
    if n_kv > _MAX_KEYS:
        raise BrokenModel(f"truncated or corrupt header ({n_kv:,} metadata keys)")
    return version, n_tensors, n_kv


def _read_pairs(cur: _Cursor, fields: dict[str, Any], n_kv: int) -> HeaderStart:
    for left in range(n_kv, 0, -1):
        start, kept = cur.pos, cur.kept
        try:
            key = cur.string()
            value = cur.value(int(cur.unpack("<I")))
        except struct.error:
            return HeaderStart(fields, complete=False, end=start, pairs_left=left, kept=kept)
        if cur.pos > len(cur.buf):
            return HeaderStart(fields, complete=False, end=start, pairs_left=left, kept=kept)
        fields[key] = value
    return HeaderStart(fields, complete=True, end=cur.pos, kept=cur.kept)


def _parse(buf: mmap.mmap, size: int) -> GGUFHeader:
    cur = _Cursor(buf)
    cur.pos = 4
    version, n_tensors, n_kv = _preamble(cur)
    start = _read_pairs(cur, {}, n_kv)
    if not start.complete:
        raise struct.error("the key-value pairs run past the end of the file")
    fields = start.fields

    parameters = 0
    tensor_end = 0
    reads = _WeightReads()
    for _ in range(n_tensors):
        name = cur.string()
        n_dims = int(cur.unpack("<I"))
        if n_dims > 8:
            raise BrokenModel(f"truncated or corrupt header (a tensor with {n_dims} dimensions)")
        dims = [int(cur.unpack("<Q")) for _ in range(n_dims)]
        elements = 1
        for d in dims:
            elements *= d
        type_id = int(cur.unpack("<I"))
        offset = int(cur.unpack("<Q"))
        parameters += elements
        size_bytes = _tensor_bytes(type_id, elements)
        tensor_end = max(tensor_end, offset + size_bytes)
        reads.add(name, type_id, dims, size_bytes)

    alignment = _alignment(fields, size)
    data_start = -(-cur.pos // alignment) * alignment
    data_end = data_start + tensor_end
    if data_end > size:
        raise BrokenModel(
            f"truncated: the file has {size:,} bytes but its tensors need {data_end:,} "
            "(an incomplete download?)"
        )

    def text(key: str) -> str | None:
        value = fields.get(key)
        return value if isinstance(value, str) else None

    def number(key: str) -> int | None:
        value = fields.get(key)
        return int(value) if isinstance(value, int) and not isinstance(value, bool) else None

    arch = text("general.architecture")
    template = _usable_template(fields.get(CHAT_TEMPLATE_KEY))
    return GGUFHeader(
        architecture=arch,
        name=text("general.name"),
        parameters=parameters,
        quant=file_type_label(number("general.file_type")),
        context_length=number(f"{arch}.context_length") if arch else None,
        block_count=number(f"{arch}.block_count") if arch else None,
        chat_template=template,
        split_count=number("split.count") or 1,
        data_end=data_end,
        version=version,
        fields=fields,
        weight_reads=reads.by_type(),
    )


_TOKEN_EMBEDDING = "token_embd.weight"
_OUTPUT = "output.weight"


class _WeightReads:
    """Sums, by tensor type, the bytes and rows of the matrices one token reads: every weight of
    two or more dimensions, but the token embedding only where the output layer is tied to it
    (no ``output.weight``): otherwise a token looks up one row of it."""

    def __init__(self) -> None:
        self._sums: dict[int, list[int]] = {}
        self._embedding: tuple[int, int, int] | None = None
        self._has_output = False

    def add(self, name: str, type_id: int, dims: list[int], size_bytes: int) -> None:
        if len(dims) < 2:
            return  # norms and biases: a rounding error
        rows = _rows(dims)
        if name == _TOKEN_EMBEDDING:
            self._embedding = (type_id, size_bytes, rows)
            return
        self._has_output = self._has_output or name == _OUTPUT
        entry = self._sums.setdefault(type_id, [0, 0])
        entry[0] += size_bytes
        entry[1] += rows

    def by_type(self) -> dict[str, list[int]]:
        sums = {kind: list(entry) for kind, entry in self._sums.items()}
        if self._embedding is not None and not self._has_output:
            kind, size_bytes, rows = self._embedding
            entry = sums.setdefault(kind, [0, 0])
            entry[0] += size_bytes
            entry[1] += rows
        names = _tensor_type_names()
        return {names.get(kind, str(kind)): entry for kind, entry in sums.items()}


def _rows(dims: list[int]) -> int:
    """A matrix's rows as llama.cpp multiplies it: every dimension after the first (the
    first is a row's length)."""
    rows = 1
    for d in dims[1:]:
        rows *= d
    return rows


def _alignment(fields: dict[str, Any], size: int) -> int:
    """``general.alignment``, refused in words unless it is a power of two that fits the file."""
    if "general.alignment" not in fields:
        return DEFAULT_ALIGNMENT
    value = fields["general.alignment"]
    valid = isinstance(value, int) and not isinstance(value, bool) and value > 0
    if not valid or value & (value - 1) or value > min(size, _MAX_ALIGNMENT):
        shown = value if isinstance(value, int) else type(value).__name__
        raise BrokenModel(f"invalid alignment (general.alignment is {shown}, not a small power of two)")
    return int(value)


def _summarise(value: Any) -> str:
    if isinstance(value, ArraySummary):
        return f"array of {value.count:,} values"
    if isinstance(value, list):
        shown = ", ".join(_summarise(v) if isinstance(v, list | ArraySummary) else str(v) for v in value[:8])
        return f"[{shown}{', …' if len(value) > 8 else ''}] ({len(value)} values)"
    text = str(value)
    return text if len(text) <= 300 else text[:300] + f"… ({len(text):,} characters)"


def header_rows(path: Path) -> list[tuple[str, str]]:
    """Every field of the header as (key, value) text, long arrays and strings summarised."""
    header = read_header(path)
    rows = [(key, _summarise(value)) for key, value in header.fields.items()]
    rows.append(("tensor data ends at", f"{header.data_end:,} bytes"))
    return rows
