"""What an installed (not editable) Hearth holds: every package of the source tree."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_package_is_listed_for_the_wheel() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    on_disk = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for init in (ROOT / "desktop").rglob("__init__.py")
        if "__pycache__" not in init.parts
    }
    assert on_disk - listed == set()  # an editable install hides a package left out here
    assert config["package-dir"]["desktop.resources"] == "resources"


def test_the_bundle_scripts_parse() -> None:
    import subprocess

    spec = ROOT / "packaging" / "hearth.spec"
    compile(spec.read_text(), str(spec), "exec")  # PyInstaller runs it as Python
    for script in ("build-bundle.sh", "build-deb.sh"):
        assert subprocess.run(["bash", "-n", str(ROOT / "packaging" / script)]).returncode == 0
    # what the spec names exists
    assert (ROOT / "packaging" / "hearth_entry.py").is_file()
    assert (ROOT / "resources" / "icons" / "hearth.svg").is_file()


def test_the_desktop_entry_and_appstream_metadata_agree() -> None:
    import configparser
    import xml.etree.ElementTree as ET

    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str  # type: ignore[assignment,method-assign]
    entry.read(ROOT / "resources" / "hearth.desktop")
    desktop = entry["Desktop Entry"]
    assert desktop["Exec"] == "hearth" and desktop["Icon"] == "hearth" and desktop["Type"] == "Application"
    meta = ET.parse(ROOT / "packaging" / "linux" / "io.github.hearth.Hearth.metainfo.xml").getroot()
    assert meta.get("type") == "desktop-application"
    assert meta.findtext("launchable") == "hearth.desktop" and meta.findtext("provides/binary") == "hearth"
