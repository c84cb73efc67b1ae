from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from desktop.gguf.header import read_header
from desktop.gguf.tiny_model import TinyModelSpec, build_tiny_model
from desktop.library.scan import find_model, scan_models_dir


def test_factory_model_header(tiny_model: Path) -> None:
    header = read_header(tiny_model)
    assert header.architecture == "llama"
    assert header.quant == "F32"
    assert header.context_length == 2048
    assert header.block_count == 2
    assert header.chat_template and "<|im_start|>" in header.chat_template
    # 512x64 embeddings + 512x64 output + 2 blocks of attention, ffn and norms
    assert header.parameters == 512 * 64 * 2 + 64 + 2 * (64 * 64 * 2 + 32 * 64 * 2 + 3 * 128 * 64 + 2 * 64)
    assert tiny_model.stat().st_size < 1_000_000


def _place(models_dir: Path, repo: str, source: Path, name: str | None = None) -> Path:
    target = models_dir / repo / (name or source.name)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    return target


def test_scan_lists_good_and_broken_models(models_dir: Path, model_cache: Callable[..., Path]) -> None:
    good = _place(models_dir, "owner/Tiny-GGUF", model_cache())
    no_template = _place(models_dir, "owner/Base-GGUF", model_cache("base-F16.gguf", chat_template=None))
    truncated = models_dir / "owner" / "Broken-GGUF" / "cut-Q4_K_M.gguf"
    truncated.parent.mkdir(parents=True)
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    not_gguf = models_dir / "owner" / "Broken-GGUF" / "notes.gguf"
    not_gguf.write_text("this is not a model")
    header_cut = models_dir / "owner" / "Broken-GGUF" / "header-cut.gguf"
    header_cut.write_bytes(good.read_bytes()[:200])
    # Hidden download caches and projectors are never listed.
    _place(models_dir, "owner/Tiny-GGUF/.cache/huggingface/download", model_cache())
    _place(models_dir, "owner/Tiny-GGUF", model_cache(), "mmproj-tiny-f16.gguf")

    models = {m.path.name: m for m in scan_models_dir(models_dir)}
    assert set(models) == {good.name, no_template.name, truncated.name, not_gguf.name, header_cut.name}

    tiny = models[good.name]
    assert (tiny.status, tiny.architecture, tiny.quant, tiny.repo_id) == (
        "ok",
        "llama",
        "F32",
        "owner/Tiny-GGUF",
    )
    assert tiny.has_chat_template and tiny.context_length == 2048 and tiny.parameters
    assert tiny.source == "hearth" and tiny.shards == 1 and tiny.size_bytes == good.stat().st_size
    base = models[no_template.name]
    assert base.ok and not base.has_chat_template
    assert models[truncated.name].status == "broken"
    assert "truncated" in (models[truncated.name].reason or "")
    assert models[truncated.name].quant == "Q4_K_M"  # from the name, when the header can't be trusted
    assert models[not_gguf.name].reason == "not a GGUF file"
    assert models[header_cut.name].status == "broken"


def test_sharded_model_is_one_entry_and_a_missing_part_is_reported(models_dir: Path, tmp_path: Path) -> None:
    first = build_tiny_model(tmp_path / "split" / "Tiny-Q8_0.gguf", TinyModelSpec(split_max_tensors=10))
    parts = sorted(first.parent.glob("*.gguf"))
    assert len(parts) >= 2 and first.name.endswith(f"-00001-of-{len(parts):05d}.gguf")
    single = build_tiny_model(tmp_path / "single" / "Tiny.gguf")
    for part in parts:
        _place(models_dir, "owner/Split-GGUF", part)

    [model] = scan_models_dir(models_dir)
    assert model.ok, model.reason
    assert model.shards == len(parts)
    assert model.path.name == first.name
    assert model.size_bytes == sum(p.stat().st_size for p in parts)
    assert model.parameters == read_header(single).parameters

    (models_dir / "owner" / "Split-GGUF" / parts[1].name).unlink()
    [model] = scan_models_dir(models_dir)
    assert model.status == "broken"
    assert model.reason == f"shard missing: part 2 of {len(parts)}"


def test_find_model_by_id_or_path(models_dir: Path, tiny_model: Path) -> None:
    placed = _place(models_dir, "owner/Tiny-GGUF", tiny_model)
    models = scan_models_dir(models_dir)
    assert find_model(models[0].id, models) == models[0]
    assert find_model(str(placed), models) == models[0]
    outside = find_model(str(tiny_model), models)
    assert outside is not None and outside.source == "folder" and outside.ok
    assert find_model("nope", models) is None


def test_an_architecture_this_build_does_not_know_is_reported(models_dir: Path, model_cache) -> None:
    _place(models_dir, "o/Alien-GGUF", model_cache("alien-F32.gguf", architecture="hearthnet"))
    [model] = scan_models_dir(models_dir)
    assert model.status == "broken"
    assert model.reason == "architecture 'hearthnet' is unknown to this build of llama.cpp (update Hearth)"
    assert model.architecture == "hearthnet"
