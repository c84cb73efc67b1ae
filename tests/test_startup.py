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


def test_without_a_display_hearth_says_so_in_one_line_and_exits_1() -> None:
    env = {k: v for k, v in run_env().items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    result = subprocess.run(
        [sys.executable, "-m", "desktop"], env=env, capture_output=True, text=True, timeout=60
    )
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1 and len(lines) == 1, result.stderr
    assert lines[0].startswith("error: no display") and "hearth --help" in lines[0]
    assert result.stdout == ""


def test_the_display_check_leaves_other_systems_and_explicit_platforms_to_qt() -> None:
    from desktop.ui.shell.display import missing_display

    assert missing_display({}, [], "linux") is not None
    assert missing_display({"WAYLAND_DISPLAY": "wayland-0"}, [], "linux") is None
    assert missing_display({"QT_QPA_PLATFORM": "offscreen"}, [], "linux") is None
    assert missing_display({}, ["-platform", "vnc"], "linux") is None
    assert missing_display({}, [], "win32") is None and missing_display({}, [], "darwin") is None
