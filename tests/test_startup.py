"""Start-up stays light: the window is built without the modules only a search, a download,
a header or a loaded model needs. Checked in a clean interpreter, since this one has them all."""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest

from desktop.gguf.header import BrokenModel, _tensor_bytes, file_type_label
from tests.conftest import run_env

HEAVY = ("huggingface_hub", "gguf", "numpy", "filelock", "jinja2", "llama_cpp")

PROGRAM = (
    "import sys; import desktop.ui.shell.app; "
    "from desktop.ui.shell.app import create_application, create_main_window; "
    "app = create_application([]); w = create_main_window(); "
    f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
)


@pytest.fixture(scope="module")
def loaded_at_start() -> list[str]:
    env = run_env() | {"QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run(
        [sys.executable, "-c", PROGRAM], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    loaded = ast.literal_eval(result.stdout.strip().splitlines()[-1])
    assert isinstance(loaded, list)
    return loaded


def test_window_is_built_without_heavy_modules(loaded_at_start: list[str]) -> None:
    assert loaded_at_start == []


def test_gguf_tables_read_lazily_match_the_gguf_package() -> None:
    from gguf import GGML_QUANT_SIZES, GGMLQuantizationType, LlamaFileType

    for kind in LlamaFileType:
        expected = None if kind.name == "GUESSED" else kind.name.removeprefix("MOSTLY_").removeprefix("ALL_")
        assert file_type_label(int(kind)) == expected
    assert file_type_label(None) is None
    assert file_type_label(max(LlamaFileType) + 1000) is None
    for tensor_type, (block, size) in GGML_QUANT_SIZES.items():
        assert _tensor_bytes(int(tensor_type), block * 3) == size * 3
    unknown = max(GGMLQuantizationType) + 1000
    with pytest.raises(BrokenModel, match=f"type {unknown}"):
        _tensor_bytes(unknown, 32)
