from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from desktop.library.catalog import Catalog
from desktop.library.importing import ImportRefused, import_model
from desktop.library.provenance import ProvenanceStore
from desktop.library.scan import describe_model
from desktop.library.verify import verify_model
from desktop.paths import hearth_paths


@pytest.mark.parametrize("mode", ["copy", "move", "link"])
def test_import_copy_move_or_link(mode: str, models_dir: Path, tiny_model: Path, tmp_path: Path) -> None:
    source = tmp_path / "downloads" / "mine-F32.gguf"
    source.parent.mkdir()
    shutil.copyfile(tiny_model, source)
    progress: list[tuple[int, int]] = []
    target = import_model(source, models_dir, mode, on_bytes=lambda d, t: progress.append((d, t)))  # type: ignore[arg-type]
    assert target == models_dir / "local" / "imported" / "mine-F32.gguf"
    assert target.read_bytes() == tiny_model.read_bytes()
    assert source.exists() == (mode != "move")
    assert target.is_symlink() == (mode == "link")
    if mode == "copy":
        assert progress[-1] == (source.stat().st_size, source.stat().st_size)
    [model] = Catalog().scan()
    assert model.path == target and model.ok


def test_import_refuses_what_is_not_a_model(models_dir: Path, tmp_path: Path, tiny_model: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("hi")
    with pytest.raises(ImportRefused, match=r"not a \.gguf file"):
        import_model(notes, models_dir, "copy")
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(tiny_model.read_bytes()[:3000])
    with pytest.raises(ImportRefused, match="can't be imported: truncated"):
        import_model(cut, models_dir, "copy")
    assert not list(models_dir.rglob("*.gguf*"))


def test_verify_against_the_recorded_sha256(models_dir: Path, tiny_model: Path) -> None:
    target = models_dir / "o" / "r" / "m-F32.gguf"
    target.parent.mkdir(parents=True)
    shutil.copyfile(tiny_model, target)
    model = describe_model(target)
    [unknown] = verify_model(model)
    assert unknown.ok is None  # nothing recorded to check against
    store = ProvenanceStore(hearth_paths().library_db)
    store.record(
        target,
        repo_id="o/r",
        filename="m-F32.gguf",
        revision=None,
        sha256=hashlib.sha256(tiny_model.read_bytes()).hexdigest(),
    )
    store.close()
    [good] = verify_model(model)
    assert good.ok is True
    with target.open("r+b") as f:  # one flipped byte in the tensor data
        f.seek(-10, 2)
        f.write(b"\xff")
    [bad] = verify_model(model)
    assert bad.ok is False


def test_blobs_named_by_their_hash_are_checked_by_name(tmp_path: Path, tiny_model: Path) -> None:
    digest = hashlib.sha256(tiny_model.read_bytes()).hexdigest()
    blob = tmp_path / "blobs" / f"sha256-{digest}"
    blob.parent.mkdir()
    shutil.copyfile(tiny_model, blob)
    [verdict] = verify_model(describe_model(blob, source="ollama", name="tiny:latest"))
    assert verdict.expected == digest and verdict.ok is True
