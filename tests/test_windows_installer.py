"""The Windows installer, run: compiled with NSIS, then installed, upgraded and uninstalled
silently under Debian's Wine in a private prefix (no display, nothing written outside it).

Wine runs the installer as Windows would; the uninstaller returns at once and finishes from
a copy of itself, so what is checked is the files and the registry once the prefix's
processes have all ended, never exit codes. Skipped, saying why, where makensis or Wine (with
its 32-bit part: makensis builds a 32-bit installer) is missing; .ci/run installs them.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.test_packaging import PACKAGING, _make_icons

# Every Wine run ends well inside this (the first, which creates the prefix, takes about 10 s on
# two cores); past it, the test fails saying what it was waiting for.
STEP_DEADLINE_S = 90.0
# Once the prefix's processes have ended, the files and registry are final; this only covers
# a file system slow to show them.
SETTLE_S = 10.0
INSTALL_DIR = r"C:\Programs\Hearth"
UNINSTALLER = INSTALL_DIR + r"\uninstall.exe"
UNINSTALL_KEY = r"Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\Hearth"


def _wine_or_skip() -> str:
    makensis = shutil.which("makensis")
    wine = shutil.which("wine")
    if makensis is None:
        pytest.skip("makensis is not installed (Debian: apt-get install nsis; .ci/run installs it)")
    if wine is None:
        pytest.skip(
            "Wine is not installed, so the Windows installer is only compiled, not run "
            "(Debian: dpkg --add-architecture i386; apt-get install wine wine64 wine32:i386; "
            ".ci/run installs it)"
        )
    # Debian's wine wrapper falls back to the 64-bit loader, which cannot run NSIS's 32-bit installer.
    if Path("/usr/lib/wine/wine64").exists() and not Path("/usr/lib/wine/wine").exists():
        pytest.skip("Wine's 32-bit part is not installed (Debian: apt-get install wine32:i386)")
    return wine


@dataclass
class Prefix:
    """A private Wine prefix, and the environment that keeps Wine inside it."""

    root: Path
    env: dict[str, str]

    @property
    def drive_c(self) -> Path:
        return self.root / "drive_c"

    def windows_path(self, path: str) -> Path:
        """The prefix's file for a Windows path such as C:\\Programs\\Hearth."""
        drive, _, rest = path.partition(":\\")
        assert drive.upper() == "C", path
        return self.drive_c.joinpath(*rest.split("\\"))

    @property
    def local_appdata(self) -> Path:
        return self.drive_c / "users" / os.environ.get("USER", "root") / "AppData" / "Local"

    @property
    def start_menu(self) -> Path:
        user = self.drive_c / "users" / os.environ.get("USER", "root")
        return user / "AppData" / "Roaming" / "Microsoft" / "Windows" / "Start Menu" / "Programs"

    def run(self, program: str, *args: str) -> None:
        """Starts a Windows program and waits until every process in the prefix has ended
        (the uninstaller's copy of itself included) and Wine has written its registry."""
        started = subprocess.run(
            ["wine", program, *args], env=self.env, capture_output=True, timeout=STEP_DEADLINE_S
        )
        del started  # the exit code says nothing: an uninstaller returns before it has finished
        subprocess.run(["wineserver", "-w"], env=self.env, timeout=STEP_DEADLINE_S, check=True)

    def uninstall_entry(self) -> dict[str, str] | None:
        """The values of Hearth's entry in Settings > Apps, from the prefix's user registry."""
        text = (self.root / "user.reg").read_text(encoding="utf-8", errors="replace")
        header = f"[{UNINSTALL_KEY}]"
        if header not in text:
            return None
        block = text.split(header, 1)[1].split("\n[", 1)[0]
        values = {}
        for line in block.splitlines():
            if line.startswith('"') and "=" in line:
                name, _, value = line.partition("=")
                # a string value is quoted, with backslashes and quotes escaped by a backslash
                values[name.strip('"')] = re.sub(r"\\(.)", r"\1", value[1:-1]) if value[:1] == '"' else value
        return values


def _until(what: str, check: Callable[[], bool], program: Path) -> None:
    """Polls, bounded, for a state Wine has reached once its server has exited."""
    deadline = time.monotonic() + SETTLE_S
    while not check():
        if time.monotonic() > deadline:
            left = (
                sorted(p.relative_to(program).as_posix() for p in program.rglob("*"))
                if program.exists()
                else []
            )
            pytest.fail(f"still waiting for {what}; in the program folder: {left}")
        time.sleep(0.2)


@pytest.fixture
def prefix(tmp_path: Path) -> Prefix:
    wine = _wine_or_skip()
    home = tmp_path / "home"
    home.mkdir()
    env = {
        "PATH": str(Path(wine).parent) + os.pathsep + os.environ.get("PATH", ""),
        "HOME": str(home),  # so that anything Wine wrote outside the prefix would show here
        "USER": os.environ.get("USER", "root"),
        "WINEPREFIX": str(tmp_path / "prefix"),
        "WINEARCH": "win64",
        "WINEDEBUG": "-all",
        # no Mono or Gecko add-ons (they would be downloaded), no menu entries for the desktop
        "WINEDLLOVERRIDES": "mscoree,mshtml=;winemenubuilder.exe=d",
    }  # and no DISPLAY: a silent install needs none
    return Prefix(tmp_path / "prefix", env)


def _compile(tmp_path: Path, version: str, payload: Path) -> Path:
    icons = tmp_path / "icons"
    if not icons.exists():
        _make_icons(icons)
    out = tmp_path / f"hearth-{version}-windows-x64-setup.exe"
    result = subprocess.run(
        [
            "makensis",
            "-V2",
            f"-DVERSION={version}",
            f"-DPAYLOAD={payload}",
            f"-DICON={icons / 'hearth.ico'}",
            f"-DOUTFILE={out}",
            str(PACKAGING / "windows" / "hearth.nsi"),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return out


def _payload(folder: Path, *libraries: str) -> Path:
    """A stand-in for PyInstaller's one-folder bundle: its two programs and _internal."""
    lib = folder / "_internal" / "llama_cpp" / "lib"
    lib.mkdir(parents=True)
    (folder / "hearth.exe").write_bytes(b"MZ" + bytes(4094))
    (folder / "hearth-cli.exe").write_bytes(b"MZ" + bytes(4094))
    for name in libraries:
        (lib / name).write_bytes(bytes(2048))
    return folder


def test_the_installer_installs_upgrades_and_uninstalls_keeping_data_unless_asked(
    qapp, tmp_path: Path, prefix: Prefix
) -> None:
    old = _compile(tmp_path, "1.0.0", _payload(tmp_path / "v1", "ggml-cpu-haswell.dll", "ggml-old.dll"))
    new = _compile(tmp_path, "1.1.0", _payload(tmp_path / "v2", "ggml-cpu-haswell.dll"))
    program = prefix.windows_path(INSTALL_DIR)
    shortcut = prefix.start_menu / "Hearth.lnk"

    prefix.run(str(old), "/S", f"/D={INSTALL_DIR}")
    _until("the first install's files", lambda: (program / "uninstall.exe").is_file(), program)
    installed = {p.relative_to(program).as_posix() for p in program.rglob("*") if p.is_file()}
    assert installed == {
        "hearth.exe",
        "hearth-cli.exe",
        "uninstall.exe",
        "_internal/llama_cpp/lib/ggml-cpu-haswell.dll",
        "_internal/llama_cpp/lib/ggml-old.dll",
    }
    target = f"{INSTALL_DIR}\\hearth.exe"
    link = shortcut.read_bytes()
    assert target.encode("utf-16-le") in link or target.encode() in link, link
    entry = prefix.uninstall_entry()
    assert entry is not None
    assert entry["DisplayName"] == "Hearth" and entry["DisplayVersion"] == "1.0.0"
    assert entry["InstallLocation"] == INSTALL_DIR
    assert entry["QuietUninstallString"] == f'"{UNINSTALLER}" /S'
    assert entry["UninstallString"] == f'"{UNINSTALLER}"'

    # The person's models, chats and settings (platformdirs: %LOCALAPPDATA%\Hearth).
    data = prefix.local_appdata / "Hearth"
    (data / "models").mkdir(parents=True)
    (data / "chats.sqlite3").write_bytes(b"the person's chats")
    (data / "models" / "model.gguf").write_bytes(b"GGUF")

    # An upgrade, into the folder the registry remembers: a file the new version lacks goes.
    prefix.run(str(new), "/S")
    _until(
        "the upgrade's version in Apps",
        lambda: (prefix.uninstall_entry() or {}).get("DisplayVersion") == "1.1.0",
        program,
    )
    assert not (program / "_internal" / "llama_cpp" / "lib" / "ggml-old.dll").exists()
    assert (program / "hearth-cli.exe").is_file() and shortcut.is_file()

    prefix.run(UNINSTALLER, "/S")
    _until("the uninstall", lambda: not program.exists() and prefix.uninstall_entry() is None, program)
    assert not shortcut.exists()
    assert (data / "chats.sqlite3").read_bytes() == b"the person's chats"  # kept
    assert (data / "models" / "model.gguf").is_file()

    # The documented silent switch removes the data too.
    prefix.run(str(new), "/S", f"/D={INSTALL_DIR}")
    _until("the reinstall", lambda: (program / "uninstall.exe").is_file(), program)
    prefix.run(UNINSTALLER, "/S", "/REMOVEDATA")
    _until("the uninstall with /REMOVEDATA", lambda: not program.exists() and not data.exists(), program)
    assert prefix.uninstall_entry() is None and not shortcut.exists()
    assert list((tmp_path / "home").iterdir()) == []  # Wine wrote nothing outside its prefix
