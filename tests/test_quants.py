from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from desktop.gguf.fit import ModelShape, fit_verdict, memory_needed
from desktop.gguf.header import NeedMoreBytes, read_fields
from desktop.hub.files import HubFile
from desktop.hub.quants import group_quants, quality_hint, quant_report
from desktop.hub.remote_header import MAX_HEADER_BYTES, remote_header
from tests.conftest import TEST_REPO
from tests.fakehub import FakeHub


def hub_file(name: str, size: int = 100) -> HubFile:
    from desktop.gguf.names import quant_from_name

    return HubFile(name, size, None, quant_from_name(name))


def test_grouping_puts_shards_together_and_projectors_aside() -> None:
    files = [
        hub_file("README.md", 5),
        hub_file("Model-Q4_K_M.gguf", 400),
        hub_file("Model-Q8_0/Model-Q8_0-00002-of-00002.gguf", 300),
        hub_file("Model-Q8_0/Model-Q8_0-00001-of-00002.gguf", 500),
        hub_file("Model-IQ2_XS.gguf", 200),
        hub_file("mmproj-Model-f16.gguf", 50),
    ]
    choices = group_quants(files)
    assert [(c.name, c.kind, c.shards, c.size_bytes) for c in choices] == [
        ("IQ2_XS", "model", 1, 200),
        ("Q4_K_M", "model", 1, 400),
        ("Q8_0", "model", 2, 800),
        ("mmproj-Model-f16.gguf", "mmproj", 1, 50),
    ]
    assert choices[2].filenames == [
        "Model-Q8_0/Model-Q8_0-00001-of-00002.gguf",
        "Model-Q8_0/Model-Q8_0-00002-of-00002.gguf",
    ]
    assert choices[1].bits_per_weight(800) == 4.0
    assert choices[1].bits_per_weight(None) is None


@pytest.mark.parametrize(
    ("quant", "words"),
    [("Q8_0", "Practically lossless"), ("UD-Q4_K_XL", "Small loss"), ("Q2_K", "Large loss"), ("F16", "Full")],
)
def test_quality_hints(quant: str, words: str) -> None:
    assert (quality_hint(quant) or "").startswith(words)


def test_shape_and_memory_arithmetic(tiny_model: Path) -> None:
    from desktop.gguf.header import read_header

    shape = ModelShape.from_fields(read_header(tiny_model).fields)
    assert shape == ModelShape(layers=2, kv_heads=2, key_width=16, value_width=16, context_length=2048)
    assert shape.kv_cache_bytes(1000) == 2 * 2 * (16 + 16) * 1000 * 2
    assert shape.default_context() == 2048
    assert memory_needed(1000, shape) == 1000 + shape.kv_cache_bytes(2048) + 256 * 1024 * 1024
    assert [fit_verdict(n, 100) for n in (70, 71, 90, 91)] == ["fits", "tight", "tight", "no"]


def test_header_fields_from_the_first_bytes(tiny_model: Path) -> None:
    data = tiny_model.read_bytes()
    fields = read_fields(data[:20_000])
    assert fields["general.architecture"] == "llama" and fields["llama.block_count"] == 2
    with pytest.raises(NeedMoreBytes):
        read_fields(data[:3_000])  # inside the vocabulary


def test_the_remote_header_is_one_request_read_until_its_pairs_end(fake_hub: FakeHub) -> None:
    header = remote_header(TEST_REPO, "tiny-llama-F32.gguf")
    assert header.fields["llama.context_length"] == 2048
    assert header.complete and header.has_chat_template is True
    assert fake_hub.ranges == [f"bytes=0-{MAX_HEADER_BYTES - 1}"]
    # the pairs end after about 12 KB: the rest of the 570 KB file was not read
    assert header.bytes_read < 300_000


def test_the_kind_of_model_comes_from_the_header_on_the_hub(
    fake_hub: FakeHub, model_cache: Callable[..., Path]
) -> None:
    fake_hub.add_repo("hearth-test/Base-GGUF")
    fake_hub.add_file("hearth-test/Base-GGUF", "base-Q8_0.gguf", model_cache("base.gguf", chat_template=None))
    chat, base = quant_report(TEST_REPO), quant_report("hearth-test/Base-GGUF")
    assert chat.header_read and chat.has_chat_template is True and chat.kind_unknown_why is None
    assert base.header_read and base.has_chat_template is False and base.kind_unknown_why is None
    assert base.shape is not None and base.shape.layers == 2


@pytest.mark.timeout(60)
def test_a_header_larger_than_the_bound_leaves_the_kind_unknown(
    fake_hub: FakeHub, model_cache: Callable[..., Path]
) -> None:
    # 64 MB of metadata between the model's shape and its chat template (as a huge vocabulary).
    big = model_cache("huge-header.gguf", metadata_padding=64_000_000)
    fake_hub.add_repo("hearth-test/Huge-Header-GGUF")
    fake_hub.add_file("hearth-test/Huge-Header-GGUF", "huge-header-F32.gguf", big)
    header = remote_header("hearth-test/Huge-Header-GGUF", "huge-header-F32.gguf")
    assert not header.complete and header.has_chat_template is None  # unknown, not "no template"
    assert header.bytes_read == MAX_HEADER_BYTES
    assert header.fields["llama.block_count"] == 2  # what came before the bound is kept
    # the connection was closed at the bound, far short of the file's 64 MB
    assert fake_hub.bytes_sent["huge-header-F32.gguf"] < MAX_HEADER_BYTES + 16_000_000

    report = quant_report("hearth-test/Huge-Header-GGUF")  # no error: the rows stand
    assert report.header_read and report.has_chat_template is None
    assert report.shape is not None and report.shape.layers == 2
    assert "past its first 32 MB" in (report.kind_unknown_why or "")


def test_quant_report_against_the_hub(fake_hub: FakeHub) -> None:
    fake_hub.repos[TEST_REPO].gguf = {"total": 139_584, "architecture": "llama", "context_length": 2048}
    report = quant_report(TEST_REPO, available_bytes=4 * 1024**3)
    assert report.parameters == 139_584
    assert report.shape is not None and report.shape.layers == 2 and report.context == 2048
    assert [c.name for c in report.choices] == ["F32", "Q8_0", "mmproj-tiny-llama-f16.gguf"]
    f32 = next(c for c in report.choices if c.quant == "F32")
    assert f32.bits_per_weight(report.parameters) == pytest.approx(f32.size_bytes * 8 / 139_584, abs=0.01)
    assert report.fit_for(f32) == "fits"
    assert quant_report(TEST_REPO, available_bytes=250 * 1024**2).fit_for(f32) == "no"
    sidecar = report.choices[-1]
    assert sidecar.kind == "mmproj" and report.fit_for(sidecar) is None
