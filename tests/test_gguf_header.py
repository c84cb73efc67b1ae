"""The GGUF header parser tells the truth about hostile headers, with only its documented errors."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from desktop.gguf.header import (
    BrokenModel,
    NeedMoreBytes,
    header_rows,
    read_fields,
    read_fields_from,
    read_header,
)

U32, U64, STRING, ARRAY = 4, 10, 8, 9


def _string(text: str | bytes) -> bytes:
    raw = text.encode() if isinstance(text, str) else text
    return struct.pack("<Q", len(raw)) + raw


def _header(*pairs: tuple[str, bytes]) -> bytes:
    """A GGUF v3 header with no tensors; each pair is a key and its already packed type and value."""
    body = b"".join(_string(key) + packed for key, packed in pairs)
    return b"GGUF" + struct.pack("<IQQ", 3, 0, len(pairs)) + body


def _arch() -> tuple[str, bytes]:
    return "general.architecture", struct.pack("<I", STRING) + _string("llama")


def test_an_impossible_alignment_is_called_invalid_not_truncated(tmp_path: Path) -> None:
    path = tmp_path / "aligned.gguf"
    path.write_bytes(_header(_arch(), ("general.alignment", struct.pack("<IQ", U64, 2**64 - 1))) + b"\0" * 64)
    with pytest.raises(BrokenModel, match="invalid alignment") as info:
        read_header(path)
    assert "truncated" not in str(info.value)
    path.write_bytes(_header(_arch(), ("general.alignment", struct.pack("<II", U32, 24))) + b"\0" * 64)
    with pytest.raises(BrokenModel, match="invalid alignment"):
        read_header(path)
    path.write_bytes(_header(_arch(), ("general.alignment", struct.pack("<II", U32, 64))) + b"\0" * 64)
    assert read_header(path).fields["general.alignment"] == 64


def test_a_nested_array_is_read(tmp_path: Path) -> None:
    inner = struct.pack("<IQII", U32, 2, 1, 2) + struct.pack("<IQI", U32, 1, 3)
    nested = struct.pack("<IIQ", ARRAY, ARRAY, 2) + inner
    data = _header(_arch(), ("custom.pairs", nested))
    assert read_fields(data)["custom.pairs"] == [[1, 2], [3]]
    path = tmp_path / "nested.gguf"
    path.write_bytes(data + b"\0" * 64)
    assert read_header(path).fields["custom.pairs"] == [[1, 2], [3]]
    assert ("custom.pairs", "[[1, 2] (2 values), [3] (1 values)] (2 values)") in header_rows(path)


def test_arrays_nested_without_end_are_refused_in_words() -> None:
    deep = struct.pack("<I", ARRAY) + struct.pack("<IQ", ARRAY, 1) * 50_000
    with pytest.raises(BrokenModel, match="nested"):
        read_fields(_header(("deep", deep)))


@pytest.mark.parametrize("length", [2**63, 2**64 - 1, 11_000_000])
def test_a_string_length_past_the_end_raises_only_documented_errors(length: int) -> None:
    # More than 16 strings: the vocabulary's bulk path, which used to overflow.
    strings = struct.pack("<Q", length) + _string("a") * 20
    data = _header(_arch(), ("tokenizer.ggml.tokens", struct.pack("<IIQ", ARRAY, STRING, 20) + strings))
    with pytest.raises((NeedMoreBytes, BrokenModel)):
        read_fields(data)
    with pytest.raises((NeedMoreBytes, BrokenModel)):
        read_fields(data[: len(data) // 2])


def test_pairs_read_piece_by_piece_match_one_read_and_never_guess_the_template(tiny_model: Path) -> None:
    data = tiny_model.read_bytes()
    whole = read_fields(data)
    template_at = data.index(b"tokenizer.chat_template")
    found = None
    for end in range(1_000, 40_000, 1_000):
        found = read_fields_from(data[:end], found)
        if end < template_at:  # the template not reached: not known, never "no template"
            assert not found.complete and found.has_chat_template is None
        if end < data.index(b"tokenizer.ggml.tokens"):
            assert found.fields["llama.block_count"] == 2  # the shape, before the vocabulary
        if found.complete:
            break
    assert found is not None and found.complete and found.has_chat_template is True
    assert found.fields == whole


def test_a_header_without_a_template_says_so_only_when_complete() -> None:
    data = _header(_arch(), ("tokenizer.chat_template", struct.pack("<I", STRING) + _string("  ")))
    assert read_fields_from(data).has_chat_template is False  # present but blank: no template
    plain = _header(_arch())
    assert read_fields_from(plain).has_chat_template is False
    assert read_fields_from(plain[:-3]).has_chat_template is None
