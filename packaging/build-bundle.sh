#!/usr/bin/env bash
# The one-folder bundle in dist/hearth (Linux; macOS uses the same spec), from an environment
# where Hearth is installed as a wheel (not editable) with PyInstaller:
#
#     pip install . pyinstaller && packaging/build-bundle.sh
#
# Then symbols come off the libraries that still carry them (libpython alone: 22 -> 5.5 MB),
# except those auditwheel grafted into wheels (*.libs/, hf_xet): strip breaks their patched
# headers ("ELF load command address/offset not page-aligned"). Ends with the bundle's size,
# its ten largest files and its self-test.
set -euo pipefail
cd "$(dirname "$0")/.."
pyinstaller --noconfirm --log-level WARN --distpath dist --workpath build/pyinstaller packaging/hearth.spec
if [ "$(uname)" = Linux ] && command -v strip >/dev/null; then
  find dist/hearth -type f \( -name '*.so' -o -name '*.so.*' \) \
    -not -path '*.libs/*' -not -path '*/hf_xet/*' -print0 | xargs -0 strip --strip-unneeded
fi
du -sb dist/hearth | awk '{printf "bundle: %.1f MB unpacked\n", $1 / 1048576}'
find dist/hearth -type f -printf '%s %P\n' | sort -rn | awk 'NR <= 10 {printf "  %6.1f MB  %s\n", $1 / 1048576, $2}'
QT_QPA_PLATFORM=offscreen HEARTH_HOME="$(mktemp -d)" dist/hearth/hearth --self-test
