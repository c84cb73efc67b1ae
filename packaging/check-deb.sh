#!/usr/bin/env bash
# The built .deb as a person gets it: installed (apt brings its Depends), the installed app's
# self-test run offscreen, then removed, checking that none of its files is left in /opt or
# /usr. Needs root (or sudo), as installing does. Without either, the package is unpacked into
# a folder and the self-test runs from there; install and removal are then not checked, and
# it says so.
set -euo pipefail
cd "$(dirname "$0")/.."
deb=$(ls -t dist/hearth_*.deb | head -1)
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
if [ "$(id -u)" = 0 ]; then sudo=""; elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo="sudo"; else
  echo "not root: $deb unpacked, not installed (install and removal not checked)" >&2
  dpkg-deb -x "$deb" "$home/root"
  QT_QPA_PLATFORM=offscreen HEARTH_HOME="$home/data" "$home/root/opt/hearth/hearth" --self-test
  exit 0
fi
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "./$deb" >/dev/null
# the package's own files and links (not the folders it shares with others, such as /usr/bin)
files=$(dpkg-query -L hearth | grep -E '^/(opt|usr)/' | while read -r path; do
  if [ -L "$path" ] || [ ! -d "$path" ]; then echo "$path"; fi
done)
echo "installed: $(echo "$files" | wc -l) files; /usr/bin/hearth -> $(readlink -f /usr/bin/hearth)"
QT_QPA_PLATFORM=offscreen HEARTH_HOME="$home/data" /usr/bin/hearth --self-test
$sudo dpkg --remove hearth >/dev/null
left=$(printf '%s\n' "$files" /opt/hearth | while read -r path; do
  if [ -e "$path" ] || [ -L "$path" ]; then echo "$path"; fi
done)
if [ -n "$left" ]; then
  echo "left behind after removal:" >&2
  echo "$left" >&2
  exit 1
fi
echo "removed: nothing of hearth is left in /opt or /usr"
