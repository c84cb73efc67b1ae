"""Models in other apps' folders, laid out as those apps lay them out, found in place."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from desktop.gguf.header_cache import HeaderCache
from desktop.library.catalog import Catalog
from desktop.paths import hearth_paths
from desktop.settings import load_settings, save_settings


@pytest.fixture
def home(hearth_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Other apps' folders derive from HOME alone here."""
    for name in ("HF_HOME", "HF_HUB_CACHE", "XDG_CACHE_HOME", "XDG_DATA_HOME", "OLLAMA_MODELS"):
        monkeypatch.delenv(name, raising=False)
    return Path(os.environ["HOME"])


def lay_out_other_apps(home: Path, model: Path, base: Path) -> dict[str, Path]:
    data = model.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    hf = home / ".cache" / "huggingface" / "hub" / "models--someone--Tiny-GGUF"
    (hf / "blobs").mkdir(parents=True)
    (hf / "blobs" / sha).write_bytes(data)
    for commit in ("aaaa", "bbbb"):  # two snapshots linking the same blob: one model
        snap = hf / "snapshots" / commit
        snap.mkdir(parents=True)
        (snap / "tiny-Q4_K_M.gguf").symlink_to(Path("../../blobs") / sha)
    (hf / "refs").mkdir()
    (hf / "refs" / "main").write_text("bbbb")

    lms = home / ".lmstudio" / "models" / "lmstudio-community" / "Base-GGUF" / "base-F16.gguf"
    lms.parent.mkdir(parents=True)
    shutil.copyfile(base, lms)

    ollama = home / ".ollama" / "models"
    blob = ollama / "blobs" / f"sha256-{sha}"
    blob.parent.mkdir(parents=True)
    blob.write_bytes(data)
    manifest = ollama / "manifests" / "registry.ollama.ai" / "library" / "tiny" / "latest"
    manifest.parent.mkdir(parents=True)
    manifest.write_text(
        json.dumps(
            {
                "layers": [
                    {"mediaType": "application/vnd.ollama.image.template", "digest": "sha256:00"},
                    {"mediaType": "application/vnd.ollama.image.model", "digest": f"sha256:{sha}"},
                ]
            }
        )
    )

    gpt4all = home / ".local" / "share" / "nomic.ai" / "GPT4All" / "gpt4all-tiny.gguf"
    gpt4all.parent.mkdir(parents=True)
    shutil.copyfile(model, gpt4all)
    return {
        "hf": hf / "snapshots" / "bbbb" / "tiny-Q4_K_M.gguf",
        "lmstudio": lms,
        "ollama": blob,
        "gpt4all": gpt4all,
    }


def test_other_apps_models_are_listed_in_place(home: Path, model_cache: Callable[..., Path]) -> None:
    where = lay_out_other_apps(home, model_cache(), model_cache("base-F16.gguf", chat_template=None))
    catalog = Catalog()
    models = {m.source: m for m in catalog.scan()}
    assert set(models) == {"hf-cache", "lmstudio", "ollama", "gpt4all"}
    hf = models["hf-cache"]
    assert hf.path == where["hf"] and hf.repo_id == "someone/Tiny-GGUF" and hf.ok
    assert (
        models["lmstudio"].repo_id == "lmstudio-community/Base-GGUF"
        and not models["lmstudio"].has_chat_template
    )
    assert models["ollama"].name == "tiny:latest" and models["ollama"].architecture == "llama"
    assert models["gpt4all"].path == where["gpt4all"]
    assert len([m for m in catalog.scan() if m.source == "hf-cache"]) == 1  # two snapshots, one blob


def test_rescan_reads_no_unchanged_file_and_notices_changes(
    home: Path, models_dir: Path, tiny_model: Path
) -> None:
    for n in range(5):
        target = models_dir / "o" / "r" / f"m{n}-F32.gguf"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(tiny_model, target)
    catalog = Catalog()
    assert len(catalog.scan()) == 5 and catalog.headers.reads == 5
    catalog.headers.reads = 0
    assert len(catalog.scan()) == 5 and catalog.headers.reads == 0
    (models_dir / "o" / "r" / "m0-F32.gguf").write_bytes(b"GGUF broken now")
    (models_dir / "o" / "r" / "m4-F32.gguf").unlink()
    models = {m.path.name: m for m in catalog.scan()}
    assert catalog.headers.reads == 1 and len(models) == 4
    assert models["m0-F32.gguf"].status == "broken"


def test_a_cache_entry_this_version_cannot_read_is_read_again_from_the_file(
    home: Path, tmp_path: Path, tiny_model: Path
) -> None:
    """An entry another version of Hearth wrote (other header fields) is not an error."""
    cache = HeaderCache.open(hearth_paths().header_cache_db)
    cache.read(tiny_model)
    kept = cache.read(tiny_model)  # as the cache gives it back: the shape's fields only
    assert cache._db is not None
    cache._db.execute("UPDATE headers SET header = ?", (json.dumps({"from_a_later_version": 1}),))
    cache.reads = 0
    assert replace(cache.read(tiny_model), fields=kept.fields) == kept and cache.reads == 1
    assert cache.read(tiny_model) == kept and cache.reads == 1  # and kept again
    cache.close()


def test_watched_folders_and_one_that_disappears(home: Path, tmp_path: Path, tiny_model: Path) -> None:
    folder = tmp_path / "my-models"
    folder.mkdir()
    shutil.copyfile(tiny_model, folder / "mine-F32.gguf")
    settings = load_settings()
    settings.watched_folders = [str(folder), str(tmp_path / "gone")]
    save_settings(settings)
    [model] = Catalog().scan()
    assert (model.source, model.path) == ("folder", folder / "mine-F32.gguf")
    shutil.rmtree(folder)
    assert Catalog().scan() == []


def test_hidden_models_stay_hidden(home: Path, tiny_model: Path) -> None:
    gpt4all = home / ".local" / "share" / "nomic.ai" / "GPT4All" / "x.gguf"
    gpt4all.parent.mkdir(parents=True)
    shutil.copyfile(tiny_model, gpt4all)
    catalog = Catalog()
    [model] = catalog.scan()
    catalog.hide(model.path)
    assert Catalog().scan() == [] and gpt4all.exists()


def test_last_used_is_kept(home: Path, models_dir: Path, tiny_model: Path) -> None:
    from desktop.library.catalog import mark_used

    target = models_dir / "o" / "r" / "m-F32.gguf"
    target.parent.mkdir(parents=True)
    shutil.copyfile(tiny_model, target)
    [model] = Catalog().scan()
    assert model.last_used is None
    mark_used(target)
    [model] = Catalog().scan()
    assert model.last_used is not None and model.last_used.endswith("Z")


def test_a_500_file_library_and_its_cached_rescan(home: Path, models_dir: Path, tiny_model: Path) -> None:
    for n in range(500):  # hard links: 500 distinct paths, one file's worth of disk
        target = models_dir / f"owner{n % 20}" / f"Repo{n % 7}-GGUF" / f"model-{n:04d}-F32.gguf"
        target.parent.mkdir(parents=True, exist_ok=True)
        os.link(tiny_model, target)
    catalog = Catalog()
    models = catalog.scan()
    assert len(models) == 500 and all(m.ok for m in models) and catalog.headers.reads == 500
    catalog.headers.reads = 0
    assert catalog.scan() == models and catalog.headers.reads == 0


def test_a_damaged_header_cache_is_moved_aside_and_started_afresh(home: Path, tiny_model: Path) -> None:
    """The cache only saves time: a damaged file costs one reread, never a working library."""
    path = hearth_paths().header_cache_db
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"not a database" * 100)
    cache = HeaderCache.open_or_none(path)
    cache.read(tiny_model)
    cache.read(tiny_model)
    assert cache.reads == 1  # kept in the fresh file
    cache.close()
    assert path.with_name("headers.sqlite3.damaged").read_bytes() == b"not a database" * 100


def test_the_same_download_kept_by_two_apps_is_marked_as_a_copy(
    home: Path, models_dir: Path, tiny_model: Path
) -> None:
    ours = models_dir / "someone" / "Tiny-GGUF" / "tiny-Q4_K_M.gguf"
    theirs = home / ".lmstudio" / "models" / "someone" / "Tiny-GGUF" / "tiny-Q4_K_M.gguf"
    other = models_dir / "someone" / "Other-GGUF" / "other-Q4_K_M.gguf"
    for path in (ours, theirs, other):
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(tiny_model, path)
    catalog = Catalog()
    try:
        found = {m.path: m for m in catalog.scan()}
    finally:
        catalog.close()
    assert found[ours].copies_in == ("lmstudio",) and found[theirs].copies_in == ("hearth",)
    assert found[other].copies_in == ()  # same size, another name: not called a copy

    from desktop.ui.library.model import source_label

    assert source_label(found[ours]) == "Hearth · a copy is also in LM Studio"
