"""The architecture's one rule: the core never imports Qt. Checked in a clean interpreter."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import desktop

# Qt belongs to the window (desktop.ui) and the installed app's self-test, which checks Qt
# loads; everything else is walked, so a new module is checked without being listed.
QT_ALLOWED = ("desktop.ui", "desktop.self_test")


def core_modules() -> list[str]:
    names = ["desktop"]
    for info in pkgutil.walk_packages(desktop.__path__, "desktop."):
        if info.name == "desktop.__main__" or info.name.startswith(QT_ALLOWED):
            continue  # __main__ runs the app when imported
        names.append(info.name)
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
    assert {
        "desktop.engine.worker",
        "desktop.hub.download",
        "desktop.cli.compare",
        "desktop.cli.main",
        "desktop.db",
    } <= set(modules)
    result = subprocess.run(
        [sys.executable, "-c", BLOCKER, *modules], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"ok {len(modules)}"


def test_the_blocker_catches_qt() -> None:
    result = subprocess.run(
        [sys.executable, "-c", BLOCKER, "desktop.ui.shell.jobs"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0
    assert "Qt imported by the core" in result.stderr
