"""Which binaries PyInstaller found go into the bundle: decided by where each comes from.

A binary goes in when its source is inside the Python environment being bundled (site-packages
with PySide6, llama_cpp and numpy and the libraries their wheels carry; the standard library's
extension modules; the interpreter's own folder when it is not a system one) or when it is
named in CARRY. Everything else, the libraries of the build machine's system above all
(/usr/lib, /lib, /usr/local/lib ...), stays out: those are the desktop's and its drivers',
must match the machine the app runs on, and the .deb's Depends names their packages
(packaging/build-deb.sh checks that it names each one the bundle needs). Deciding by a list
of names to leave out made the bundle depend on what the build machine had installed: with
GTK 3 there, Qt's GTK theme plugin brought GTK, GDK and ATK into it.

packaging/hearth.spec applies it to PyInstaller's binaries; tests/test_packaging.py runs it
over a file list such as a build machine with a full desktop gives.
"""

from __future__ import annotations

import site
import sys
import sysconfig
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePosixPath

# Where a system keeps its shared libraries (Debian's multiarch folders are under these).
SYSTEM_LIBRARY_FOLDERS = (
    "/lib",
    "/lib32",
    "/lib64",
    "/usr/lib",
    "/usr/lib32",
    "/usr/lib64",
    "/usr/local/lib",
)

# Libraries from outside the environment that are safe to carry, by the start of their file
# name, each with why: none of them talks to the display, the fonts or a driver, or reads the
# system's configuration, and the app cannot run without the one it was built with.
CARRY = (
    # The interpreter itself, which a distribution's Python keeps in /usr/lib/<triplet>.
    "libpython3",
    # CUDA's runtime and BLAS, which the CUDA backend was compiled against (redistributable;
    # the person's driver, libcuda.so.1, is theirs and stays out).
    "libcudart.so",
    "libcublas.so",
    "libcublasLt.so",
)


@dataclass(frozen=True)
class Entry:
    """One of PyInstaller's binaries: its name in the bundle, its source file, its kind."""

    dest: str
    source: str
    kind: str


def _inside(path: PurePosixPath, folder: PurePosixPath) -> bool:
    return path == folder or folder in path.parents


@dataclass(frozen=True)
class Origins:
    """The folders a bundled binary may come from: the Python environment's."""

    environment: tuple[PurePosixPath, ...]

    @classmethod
    def of_this_python(cls) -> Origins:
        """This interpreter's site-packages and standard library (lib-dynload included),
        wherever they are, and its installation's folders (the virtual environment, pyenv's
        or python.org's prefix with libpython) unless those are the system's: a
        distribution's Python has its prefix in /usr and libpython in /usr/lib/<triplet>."""
        python = [*site.getsitepackages(), site.getusersitepackages()]
        python += [sysconfig.get_path(name) for name in ("stdlib", "platstdlib", "purelib", "platlib")]
        installation = [sys.prefix, sys.base_prefix, str(sysconfig.get_config_var("LIBDIR") or "")]
        folders = [PurePosixPath(f) for f in python if f]
        folders += [PurePosixPath(f) for f in installation if f and not is_system_folder(PurePosixPath(f))]
        return cls(tuple(dict.fromkeys(folders)))


def is_system_folder(path: PurePosixPath) -> bool:
    """Whether a folder is /usr, or one of the system's library folders or inside one."""
    return path == PurePosixPath("/usr") or any(
        _inside(path, PurePosixPath(folder)) for folder in SYSTEM_LIBRARY_FOLDERS
    )


def keeps(entry: Entry, origins: Origins) -> bool:
    """Whether a binary goes into the bundle."""
    source = PurePosixPath(entry.source)
    if any(_inside(source, folder) for folder in origins.environment):
        return True
    return source.name.startswith(CARRY)


def bundled(entries: Iterable[tuple[str, str, str]], origins: Origins) -> list[tuple[str, str, str]]:
    """PyInstaller's binaries (dest, source, kind), less those that stay out, in their order."""
    return [entry for entry in entries if keeps(Entry(*entry), origins)]


def left_out(entries: Iterable[tuple[str, str, str]], origins: Origins) -> list[str]:
    """The file names of those that stay out, for the build's log."""
    return sorted({PurePosixPath(e[1]).name for e in entries if not keeps(Entry(*e), origins)})
