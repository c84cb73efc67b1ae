#!/usr/bin/env bash
# The built .deb as a person gets it: installed (apt brings its Depends), the installed app's
# self-test run offscreen and its `hearth serve` answering one request and ending on SIGTERM,
# then removed, checking that none of its files is left in /opt or /usr. Needs root (or sudo), as installing does. Without either, the package is unpacked into
# a folder and the self-test runs from there; install and removal are then not checked, and
# it says so.
set -euo pipefail
cd "$(dirname "$0")/.."
deb=$(ls -t dist/hearth_*.deb | head -1)
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT

# `hearth serve` from the package: listening on a free port, answering /api/version, exit 0 on SIGTERM.
serve_check() {
  HEARTH_HOME="$home/data" "$1" serve --port 0 2>"$home/serve.err" &
  local pid=$! url="" _
  for _ in $(seq 1 100); do
    url=$(sed -n 's/^listening on //p' "$home/serve.err")
    [ -n "$url" ] && break
    sleep 0.1
  done
  if [ -z "$url" ]; then kill "$pid" 2>/dev/null; cat "$home/serve.err" >&2; echo "error: hearth serve did not listen" >&2; exit 1; fi
  python3 -c "import sys, urllib.request; print('serve: ' + urllib.request.urlopen(sys.argv[1] + '/api/version', timeout=10).read().decode())" "$url"
  kill -TERM "$pid"
  wait "$pid" || { echo "error: hearth serve did not end cleanly on SIGTERM" >&2; exit 1; }
}
if [ "$(id -u)" = 0 ]; then sudo=""; elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo="sudo"; else
  echo "not root: $deb unpacked, not installed (install and removal not checked)" >&2
  dpkg-deb -x "$deb" "$home/root"
  QT_QPA_PLATFORM=offscreen HEARTH_HOME="$home/data" "$home/root/opt/hearth/hearth" --self-test
  serve_check "$home/root/opt/hearth/hearth"
  exit 0
fi
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "./$deb" >/dev/null
# the package's own files and links (not the folders it shares with others, such as /usr/bin)
files=$(dpkg-query -L hearth | grep -E '^/(opt|usr)/' | while read -r path; do
  if [ -L "$path" ] || [ ! -d "$path" ]; then echo "$path"; fi
done)
echo "installed: $(echo "$files" | wc -l) files; /usr/bin/hearth -> $(readlink -f /usr/bin/hearth)"
QT_QPA_PLATFORM=offscreen HEARTH_HOME="$home/data" /usr/bin/hearth --self-test
serve_check /usr/bin/hearth
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
