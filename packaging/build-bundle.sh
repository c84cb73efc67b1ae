#!/usr/bin/env bash
# The one-folder bundle in dist/hearth (and dist/Hearth.app on macOS), from an environment
# where Hearth is installed as a wheel (not editable) with PyInstaller:
#
#     pip install '.[package]' && packaging/build-bundle.sh
#
# For installers, install the portable llama.cpp build first (build-llama-portable.sh), or
# the bundle runs only on CPUs like the building machine's. The icons are drawn from the SVG
# into build/icons. On Linux, symbols then come off the libraries that still carry them
# (libpython alone: 22 -> 5.5 MB), except those auditwheel grafted into wheels (*.libs/):
# strip breaks their patched headers ("ELF load command address/offset not page-aligned"). Ends with the bundle's size, its ten largest files and its self-test.
set -euo pipefail
cd "$(dirname "$0")/.."
python=$(command -v python || command -v python3)
"$python" packaging/make_icons.py build/icons >/dev/null
pyinstaller --noconfirm --log-level WARN --distpath dist --workpath build/pyinstaller packaging/hearth.spec
if [ "$(uname)" = Linux ] && command -v strip >/dev/null; then
  find dist/hearth -type f \( -name '*.so' -o -name '*.so.*' \) \
    -not -path '*.libs/*' -print0 | xargs -0 strip --strip-unneeded
fi
"$python" - <<'PY'
from pathlib import Path

files = [(p.stat().st_size, p) for p in Path("dist/hearth").rglob("*") if p.is_file() and not p.is_symlink()]
print(f"bundle: {sum(size for size, _ in files) / 2**20:.1f} MB unpacked, {len(files)} files")
for size, path in sorted(files, reverse=True)[:10]:
    print(f"  {size / 2**20:6.1f} MB  {path.relative_to('dist/hearth')}")
PY
cli=dist/hearth/hearth
[ -e dist/hearth/hearth-cli.exe ] && cli=dist/hearth/hearth-cli  # Windows: the console program
QT_QPA_PLATFORM=offscreen HEARTH_HOME="$(mktemp -d)" "$cli" --self-test
