"""The architecture's one rule: the core never imports Qt. Checked in a clean interpreter."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import desktop  # noqa: F401  (the package must import for the walk below)

CORE_PACKAGES = ("hub", "library", "engine", "chats", "compare")
CORE_MODULES = ("paths", "settings", "cli", "childproc", "gguf_names", "units", "logs")


def core_modules() -> list[str]:
    names = [f"desktop.{m}" for m in CORE_MODULES]
    for package in CORE_PACKAGES:
        try:
            module = __import__(f"desktop.{package}", fromlist=["_"])
        except ModuleNotFoundError:  # compare/ arrives with its issue
            continue
        names.append(module.__name__)
        names += [f"desktop.{package}.{info.name}" for info in pkgutil.iter_modules(module.__path__)]
    return names


BLOCKER = """
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in ('PySide6', 'shiboken6', 'PyQt5', 'PyQt6'):
            raise ImportError('Qt imported by the core: ' + name)
        return None
sys.meta_path.insert(0, Block())
import importlib
for name in sys.argv[1:]:
    importlib.import_module(name)
print('ok', len(sys.argv) - 1)
"""


def test_core_modules_import_without_qt() -> None:
    modules = core_modules()
    assert "desktop.engine.worker" in modules and "desktop.hub.download" in modules
    result = subprocess.run(
        [sys.executable, "-c", BLOCKER, *modules], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"ok {len(modules)}"


def test_the_blocker_catches_qt() -> None:
    result = subprocess.run(
        [sys.executable, "-c", BLOCKER, "desktop.ui.jobs"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0
    assert "Qt imported by the core" in result.stderr
