"""Where models already are: Hearth's own folder and other apps' folders, listed in place.

The folders are found where their apps put them, from HOME, the XDG variables, HF_HOME and
OLLAMA_MODELS (tests redirect them all by setting HOME). Nothing here copies a file.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from desktop.library.scan import find_model_files


@dataclass(frozen=True)
class Found:
    """One model file another app keeps, with what that app calls it."""

    path: Path  # the path the app uses (a Hugging Face cache snapshot link, an Ollama blob)
    source: str  # "hf-cache", "lmstudio", "ollama", "gpt4all" or "folder"
    name: str | None = None
    repo_id: str | None = None


def _home() -> Path:
    return Path(os.environ.get("HOME") or Path.home())


def hf_cache_dir() -> Path:
    if hf_home := os.environ.get("HF_HUB_CACHE"):
        return Path(hf_home)
    if hf_home := os.environ.get("HF_HOME"):
        return Path(hf_home) / "hub"
    cache = os.environ.get("XDG_CACHE_HOME") or str(_home() / ".cache")
    return Path(cache) / "huggingface" / "hub"


def lmstudio_dirs() -> list[Path]:
    return [_home() / ".lmstudio" / "models", _home() / ".cache" / "lm-studio" / "models"]


def ollama_dir() -> Path:
    return Path(os.environ.get("OLLAMA_MODELS") or _home() / ".ollama" / "models")


def gpt4all_dir() -> Path:
    data = os.environ.get("XDG_DATA_HOME") or str(_home() / ".local" / "share")
    return Path(data) / "nomic.ai" / "GPT4All"


def find_hf_cache(root: Path) -> list[Found]:
    """``models--<owner>--<repo>/snapshots/<commit>/<file>``; one entry per file, newest snapshot."""
    found: list[Found] = []
    for repo_dir in sorted(root.glob("models--*--*")) if root.is_dir() else []:
        repo_id = "/".join(repo_dir.name.removeprefix("models--").split("--", 1))
        ref = repo_dir / "refs" / "main"
        main = ref.read_text().strip() if ref.is_file() else None
        snapshots = sorted(
            (p for p in (repo_dir / "snapshots").glob("*") if p.is_dir()),
            key=lambda p: (p.name == main, p.stat().st_mtime),
            reverse=True,
        )
        blobs: set[Path] = set()
        for snapshot in snapshots:
            for path in find_model_files(snapshot):
                blob = path.resolve()
                if blob in blobs:  # the same blob from an older snapshot: one model
                    continue
                blobs.add(blob)
                found.append(Found(path, "hf-cache", repo_id=repo_id))
    return found


def find_lmstudio(roots: list[Path]) -> list[Found]:
    found: list[Found] = []
    for root in roots:
        for path in find_model_files(root):
            parts = path.relative_to(root).parts
            repo_id = f"{parts[0]}/{parts[1]}" if len(parts) >= 3 else None
            found.append(Found(path, "lmstudio", repo_id=repo_id))
    return found


MODEL_LAYER = "application/vnd.ollama.image.model"


def find_ollama(root: Path) -> list[Found]:
    """GGUF blobs named by their manifests: ``<model>:<tag>`` (``<namespace>/<model>:<tag>``)."""
    manifests = root / "manifests"
    found: list[Found] = []
    seen: set[Path] = set()
    for manifest in sorted(p for p in manifests.rglob("*") if p.is_file()) if manifests.is_dir() else []:
        parts = manifest.relative_to(manifests).parts
        if len(parts) < 4:
            continue
        namespace, model, tag = parts[-3], parts[-2], parts[-1]
        try:
            layers = json.loads(manifest.read_text(encoding="utf-8")).get("layers", [])
        except (OSError, ValueError, AttributeError):
            continue
        digest = next(
            (layer.get("digest") for layer in layers if layer.get("mediaType") == MODEL_LAYER), None
        )
        if not isinstance(digest, str) or not digest.startswith("sha256:"):
            continue
        blob = root / "blobs" / digest.replace(":", "-")
        if blob in seen:
            continue
        seen.add(blob)
        name = f"{model}:{tag}" if namespace == "library" else f"{namespace}/{model}:{tag}"
        found.append(Found(blob, "ollama", name=name))
    return found


def find_folder(root: Path, source: str) -> list[Found]:
    return [Found(path, source) for path in find_model_files(root)]


def find_other_apps(watched: list[Path]) -> list[Found]:
    """Every other app's models, and the folders the person added, in a stable order."""
    return [
        *find_hf_cache(hf_cache_dir()),
        *find_lmstudio(lmstudio_dirs()),
        *find_ollama(ollama_dir()),
        *find_folder(gpt4all_dir(), "gpt4all"),
        *(f for folder in watched for f in find_folder(folder, "folder")),
    ]
