#!/usr/bin/env bash
# dist/hearth-<version>-windows-<arch>-setup.exe from the one-folder bundle in dist/hearth
# (built first when missing), with NSIS's makensis (on PATH, or where the NSIS installer puts
# it). Runs in Git Bash on Windows; on Linux, Debian's nsis package compiles the same script.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -d dist/hearth ] || packaging/build-bundle.sh
[ -f build/icons/hearth.ico ] || python packaging/make_icons.py build/icons
makensis=$(command -v makensis || echo "/c/Program Files (x86)/NSIS/makensis.exe")
cli=dist/hearth/hearth-cli
[ -e "$cli" ] || [ -e "$cli.exe" ] || cli=dist/hearth/hearth
version=$("$cli" --version | awk '{print $2}')
native() { if command -v cygpath >/dev/null; then cygpath -w "$1"; else echo "$1"; fi; }
out="dist/hearth-${version}-windows-x64${HEARTH_VARIANT:+-$HEARTH_VARIANT}-setup.exe"  # HEARTH_VARIANT: cuda, vulkan
numbers=$(echo "$version" | grep -o '^[0-9]*\(\.[0-9]*\)\{0,2\}')
while [ "$(echo "$numbers" | tr -cd . | wc -c)" -lt 3 ]; do numbers="$numbers.0"; done
"$makensis" -V2 -DVERSION="$version" -DFILE_VERSION="$numbers" -DPAYLOAD="$(native dist/hearth)" \
  -DICON="$(native build/icons/hearth.ico)" -DOUTFILE="$(native "$out")" \
  "$(native packaging/windows/hearth.nsi)"
ls -l "$out"
