"""Packaging: what an installed Hearth holds, and the installers' scripts, icons and workflow.

The bundle and the .deb themselves are built, installed, self-tested and removed by .ci/run's
last step (PyInstaller takes minutes); here, what can be checked in seconds: the scripts
parse, the spec's library filter, the Windows installer's script compiles with NSIS (it is
run under Wine in test_windows_installer.py), the icons, the CI workflow.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

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


def test_the_desktop_entry_and_appstream_metadata_agree() -> None:
    import configparser
    import xml.etree.ElementTree as ET

    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str  # type: ignore[assignment,method-assign]
    entry.read(ROOT / "resources" / "hearth.desktop")
    desktop = entry["Desktop Entry"]
    assert desktop["Exec"] == "hearth" and desktop["Icon"] == "hearth" and desktop["Type"] == "Application"
    meta_path = ROOT / "packaging" / "linux" / "io.github.hearth.Hearth.metainfo.xml"
    meta = ET.parse(meta_path).getroot()
    assert meta.get("type") == "desktop-application"
    assert meta.findtext("launchable") == "hearth.desktop" and meta.findtext("provides/binary") == "hearth"
    # freedesktop's own validators, where installed (.ci/run installs them): not even a hint,
    # such as two main categories, which lists the app twice in some menus
    import shutil
    import subprocess

    if shutil.which("desktop-file-validate"):
        checked = subprocess.run(
            ["desktop-file-validate", str(ROOT / "resources" / "hearth.desktop")], capture_output=True
        )
        assert checked.returncode == 0 and checked.stdout.strip() == b"", checked.stdout
    if shutil.which("appstreamcli"):
        checked = subprocess.run(
            ["appstreamcli", "validate", "--no-net", str(meta_path)], capture_output=True
        )
        assert checked.returncode == 0, checked.stdout


PACKAGING = ROOT / "packaging"
SCRIPTS = (
    "build-bundle.sh",
    "build-deb.sh",
    "check-deb.sh",
    "build-llama-portable.sh",
    "windows/build-installer.sh",
    "macos/build-dmg.sh",
)


def test_every_packaging_script_parses_and_names_what_exists() -> None:
    import plistlib
    import re
    import subprocess

    for script in SCRIPTS:
        path = PACKAGING / script
        assert subprocess.run(["bash", "-n", str(path)]).returncode == 0, script
        assert path.stat().st_mode & 0o111, f"{script} is not executable"
        # every packaging/ file a script names is in the tree
        for named in re.findall(r"packaging/[\w./-]+\.(?:sh|py|nsi|cmake|spec|plist|xml)", path.read_text()):
            assert (ROOT / named).is_file(), f"{script} names {named}"
    entitlements = plistlib.loads((PACKAGING / "macos" / "entitlements.plist").read_bytes())
    assert entitlements["com.apple.security.cs.allow-unsigned-executable-memory"] is True  # ctypes callbacks
    spec = (PACKAGING / "hearth.spec").read_text()
    assert "entitlements.plist" in spec and 'bundle_identifier="io.github.hearth.Hearth"' in spec


def _make_icons(out: Path) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_icons", PACKAGING / "make_icons.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(out)


def _bundle_filter() -> Any:
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location("bundle_filter", PACKAGING / "bundle_filter.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bundle_filter"] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def test_the_bundle_takes_a_library_by_where_it_comes_from_not_by_its_name() -> None:
    """The spec's filter over what PyInstaller finds on a build machine with a full desktop
    (GTK 3 among it, which Qt's GTK theme plugin links) and a distribution's Python: only the
    Python environment's binaries and the named few go in."""
    from pathlib import PurePosixPath

    bundle_filter = _bundle_filter()
    site = "/home/builder/hearth/.venv-package/lib/python3.11/site-packages"
    multiarch = "/usr/lib/x86_64-linux-gnu"
    origins = bundle_filter.Origins(
        (
            PurePosixPath(site),
            PurePosixPath("/usr/lib/python3.11"),  # the standard library, lib-dynload in it
            PurePosixPath("/home/builder/hearth/.venv-package"),
        )
    )
    kept = [
        ("PySide6/Qt/lib/libQt6Core.so.6", f"{site}/PySide6/Qt/lib/libQt6Core.so.6", "BINARY"),
        (
            "PySide6/Qt/plugins/platformthemes/libqgtk3.so",
            f"{site}/PySide6/Qt/plugins/platformthemes/libqgtk3.so",
            "BINARY",
        ),
        ("PySide6/Qt/lib/libicudata.so.73", f"{site}/PySide6/Qt/lib/libicudata.so.73", "BINARY"),
        ("llama_cpp/lib/libllama.so", f"{site}/llama_cpp/lib/libllama.so", "BINARY"),
        (
            "numpy.libs/libscipy_openblas64_-32a4b2a6.so",
            f"{site}/numpy.libs/libscipy_openblas64_-32a4b2a6.so",
            "BINARY",
        ),
        (
            "python3.11/lib-dynload/_ssl.cpython-311-x86_64-linux-gnu.so",
            "/usr/lib/python3.11/lib-dynload/_ssl.cpython-311-x86_64-linux-gnu.so",
            "EXTENSION",
        ),
        ("libpython3.11.so.1.0", f"{multiarch}/libpython3.11.so.1.0", "BINARY"),
        ("libcudart.so.12", "/usr/local/cuda-12.6/targets/x86_64-linux/lib/libcudart.so.12", "BINARY"),
    ]
    left = [
        ("libgtk-3.so.0", f"{multiarch}/libgtk-3.so.0", "BINARY"),
        ("libgdk-3.so.0", "/lib/x86_64-linux-gnu/libgdk-3.so.0", "BINARY"),  # /lib, merged into /usr
        ("libatk-bridge-2.0.so.0", f"{multiarch}/libatk-bridge-2.0.so.0", "BINARY"),
        ("libxkbcommon-x11.so.0", f"{multiarch}/libxkbcommon-x11.so.0", "BINARY"),
        ("libepoxy.so.0", f"{multiarch}/libepoxy.so.0", "BINARY"),
        ("libstdc++.so.6", f"{multiarch}/libstdc++.so.6", "BINARY"),
        ("libssl.so.3", "/usr/local/lib/libssl.so.3", "BINARY"),
        ("libvulkan.so.1", "/usr/lib64/libvulkan.so.1", "BINARY"),
        ("libcuda.so.1", f"{multiarch}/libcuda.so.1", "BINARY"),  # the NVIDIA driver's
        # a library no list has ever named: where it comes from decides
        ("libsomething-new-2.so.0", f"{multiarch}/libsomething-new-2.so.0", "BINARY"),
    ]
    found = [kept[0], left[0], *kept[1:], *left[1:]]
    assert bundle_filter.bundled(found, origins) == kept
    assert bundle_filter.left_out(found, origins) == sorted(PurePosixPath(e[1]).name for e in left)
    # This interpreter's environment: its site-packages are an origin, the system's folders not.
    import PySide6

    here = bundle_filter.Origins.of_this_python()
    qt_core = Path(PySide6.__file__).parent / "Qt" / "lib" / "libQt6Core.so.6"
    assert bundle_filter.keeps(
        bundle_filter.Entry("PySide6/Qt/lib/libQt6Core.so.6", str(qt_core), "BINARY"), here
    )
    for entry in left:
        assert not bundle_filter.keeps(bundle_filter.Entry(*entry), here), entry
    spec = (PACKAGING / "hearth.spec").read_text()
    assert "a.binaries = bundled(a.binaries, origins)" in spec  # the spec applies this filter


def test_the_icons_are_drawn_at_every_size_each_format_needs(qapp, tmp_path: Path) -> None:
    import struct

    from PySide6.QtGui import QImage

    _make_icons(tmp_path)
    for size in (16, 32, 48, 128, 256, 512):
        image = QImage(str(tmp_path / "hicolor" / f"{size}x{size}" / "apps" / "hearth.png"))
        assert (image.width(), image.height()) == (size, size)
        assert image.pixelColor(size // 2, size // 2).alpha() == 255  # drawn, not blank
        assert image.pixelColor(0, 0).alpha() == 0  # the rounded corner stays transparent
    ico = (tmp_path / "hearth.ico").read_bytes()
    reserved, kind, count = struct.unpack_from("<HHH", ico)
    assert (reserved, kind) == (0, 1)
    sides = []
    for index in range(count):
        entry = struct.unpack_from("<BBBBHHII", ico, 6 + 16 * index)
        width, length, offset = entry[0], entry[6], entry[7]
        assert ico[offset : offset + 8] == b"\x89PNG\r\n\x1a\n" and offset + length <= len(ico)
        sides.append(width or 256)
    assert {16, 32, 48, 256} <= set(sides)
    icns = (tmp_path / "hearth.icns").read_bytes()
    assert icns[:4] == b"icns" and struct.unpack_from(">I", icns, 4)[0] == len(icns)
    kinds, at = set(), 8
    while at < len(icns):
        kinds.add(icns[at : at + 4])
        at += struct.unpack_from(">I", icns, at + 4)[0]
    assert {b"icp4", b"ic07", b"ic10", b"ic14"} <= kinds  # 16 px to 1024 px (512@2x)


def test_the_windows_installer_script_compiles_with_nsis(qapp, tmp_path: Path) -> None:
    import shutil
    import subprocess

    makensis = shutil.which("makensis")
    if makensis is None:
        pytest.skip("makensis is not installed (Debian: apt-get install nsis; .ci/run installs it)")
    payload = tmp_path / "payload"  # a stand-in for the PyInstaller bundle
    (payload / "_internal" / "llama_cpp" / "lib").mkdir(parents=True)
    (payload / "hearth.exe").write_bytes(b"MZ" + bytes(4094))
    (payload / "hearth-cli.exe").write_bytes(b"MZ" + bytes(4094))
    (payload / "_internal" / "llama_cpp" / "lib" / "ggml-cpu-haswell.dll").write_bytes(bytes(2048))
    _make_icons(tmp_path / "icons")
    out = tmp_path / "hearth-setup.exe"
    script = PACKAGING / "windows" / "hearth.nsi"

    def compile_installer(*defines: str) -> subprocess.CompletedProcess[str]:
        common = (f"-DPAYLOAD={payload}", f"-DICON={tmp_path / 'icons' / 'hearth.ico'}", f"-DOUTFILE={out}")
        command = [makensis, "-V4", *defines, *common, str(script)]
        return subprocess.run(command, capture_output=True, text=True)

    result = compile_installer("-DVERSION=9.9.9")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    log = result.stdout
    for name in ("hearth.exe", "hearth-cli.exe", "ggml-cpu-haswell.dll"):
        assert f'File: "{name}"' in log  # the whole payload goes in
    assert 'WriteUninstaller: "$INSTDIR\\uninstall.exe"' in log
    assert 'CreateShortcut: "$SMPROGRAMS\\Hearth.lnk"->"$INSTDIR\\hearth.exe"' in log
    assert 'VIAddVersionKey: "FileVersion" "9.9.9.0"' in log
    text = script.read_text()
    assert "RequestExecutionLevel user" in text  # a per-user install, no administrator
    # the person's models, chats and settings go only when they tick the box (off by default)
    assert 'Section /o "un.Also remove my models, chats and settings"' in text
    assert log.count('RMDir: /r "$LOCALAPPDATA\\Hearth"') == 1
    head = out.read_bytes()
    assert head[:2] == b"MZ" and b"Nullsoft" in head
    # a pre-release names the product; Windows' file version takes its four numbers
    prerelease = compile_installer("-DVERSION=1.2.0rc1", "-DFILE_VERSION=1.2.0.0")
    assert prerelease.returncode == 0, prerelease.stdout[-2000:]
    assert 'VIAddVersionKey: "ProductVersion" "1.2.0rc1"' in prerelease.stdout
    assert 'VIAddVersionKey: "FileVersion" "1.2.0.0"' in prerelease.stdout
    # without a version it refuses to build, rather than name an installer after nothing
    missing = compile_installer()
    assert missing.returncode != 0 and "VERSION is not defined" in missing.stdout + missing.stderr


def test_the_installer_workflow_builds_every_system_and_variant() -> None:
    import yaml

    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "installers.yml").read_text())
    job = workflow["jobs"]["build"]
    combos = {(row["os"], row["variant"]) for row in job["strategy"]["matrix"]["include"]}
    assert combos == {
        ("linux", "cpu"),
        ("linux", "cuda"),
        ("linux", "vulkan"),
        ("windows", "cpu"),
        ("windows", "cuda"),
        ("windows", "vulkan"),
        ("macos", "metal"),
    }
    runs = "\n".join(step.get("run", "") for step in job["steps"])
    for script in ("build-llama-portable.sh", "build-bundle.sh", "build-deb.sh", "check-deb.sh"):
        assert f"packaging/{script}" in runs
    assert "packaging/windows/build-installer.sh" in runs and "packaging/macos/build-dmg.sh" in runs
    uses = [step for step in job["steps"] if "uses" in step]
    upload = next(step for step in uses if step["uses"].startswith("actions/upload-artifact"))
    assert upload["with"]["if-no-files-found"] == "error"


def test_the_cpu_variants_cmake_include_installs_and_tunes_each_variant(tmp_path: Path) -> None:
    """The include, in a CMake project shaped like llama-cpp-python's, installs every ggml-cpu-*
    module (not the -feats object libraries) and tunes each x86 level for its first CPU."""
    import shutil
    import subprocess

    # CMake and a C++ toolchain are what the README's install needs (llama-cpp-python builds
    # llama.cpp), so they are here wherever the tests run.
    cmake = shutil.which("cmake")
    assert cmake is not None and shutil.which("make") is not None, (
        "CMake and make are needed to install Hearth"
    )
    source = tmp_path / "src"
    ggml = source / "vendor" / "llama.cpp" / "ggml" / "src"
    ggml.mkdir(parents=True)
    (ggml / "v.cpp").write_text("int variant() { return 1; }\n")
    (ggml / "CMakeLists.txt").write_text(
        "add_library(ggml-base SHARED v.cpp)\n"
        "add_library(ggml-cpu-x64 MODULE v.cpp)\n"
        "add_library(ggml-cpu-haswell MODULE v.cpp)\n"
        "add_library(ggml-cpu-haswell-feats OBJECT v.cpp)\n"
    )
    (source / "CMakeLists.txt").write_text(
        "cmake_minimum_required(VERSION 3.21)\nproject(llama_cpp CXX)\n"
        "function(llama_cpp_python_install_target target)\n"
        '  file(APPEND "${CMAKE_BINARY_DIR}/installed.txt" "${target}\\n")\nendfunction()\n'
        "add_subdirectory(vendor/llama.cpp/ggml/src)\n"
    )
    build = tmp_path / "build"
    result = subprocess.run(
        [
            cmake,
            "-G",
            "Unix Makefiles",
            "-S",
            str(source),
            "-B",
            str(build),
            f"-DCMAKE_PROJECT_llama_cpp_INCLUDE={PACKAGING / 'llama-cpu-variants.cmake'}",
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert sorted((build / "installed.txt").read_text().split()) == ["ggml-cpu-haswell", "ggml-cpu-x64"]
    flags = build / "vendor" / "llama.cpp" / "ggml" / "src" / "CMakeFiles"
    assert "-mtune=haswell" in (flags / "ggml-cpu-haswell.dir" / "flags.make").read_text()
    assert "-mtune" not in (flags / "ggml-cpu-x64.dir" / "flags.make").read_text()  # the baseline: generic
