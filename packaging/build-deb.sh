#!/usr/bin/env bash
# dist/hearth_<version>_<arch>.deb and dist/hearth-<version>-linux-<arch>.tar.gz from the
# one-folder bundle (built first when dist/hearth is missing; see build-bundle.sh).
#
# The .deb puts the app in /opt/hearth, a link at /usr/bin/hearth, the desktop entry, the
# icon and the AppStream metadata; Depends names every library the bundle leaves to the
# system (packaging/bundle_filter.py keeps only the Python environment's: X11/xcb and Wayland,
# fonts, GLib, GL, the C++ and OpenMP runtimes, and those Python's standard library links), and
# the oldest glibc the bundle's programs and libraries ask for (the newest GLIBC_ symbol
# version any of them needs); Recommends names GTK 3, which only Qt's GTK theme plugin opens
# (on GNOME, where it is always there). The build fails, naming them, when a library the
# bundle needs comes from a package neither names (checked on this machine: a library it
# lacks cannot be traced to its package and is listed as unchecked). The
# version is the package's own (pyproject.toml), as About shows it. Icons: the SVG and PNGs
# at the hicolor sizes (build-bundle.sh draws them into build/icons). $HEARTH_VARIANT (cuda,
# vulkan), when set, goes into the file names.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x dist/hearth/hearth ] || packaging/build-bundle.sh
version=$(dist/hearth/hearth --version | awk '{print $2}')
arch=$(dpkg --print-architecture)
suffix=${HEARTH_VARIANT:+-$HEARTH_VARIANT}
[ -d build/icons/hicolor ] || "$(command -v python || command -v python3)" packaging/make_icons.py build/icons >/dev/null
glibc=$(find dist/hearth -type f \( -name '*.so*' -o -name hearth \) -print0 | xargs -0 objdump -T 2>/dev/null \
  | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -1)
echo "the bundle needs glibc ${glibc} or newer"
root="build/deb/hearth_${version}_${arch}"
rm -rf "$root"
mkdir -p "$root/DEBIAN" "$root/opt" "$root/usr/bin" "$root/usr/share/applications" \
  "$root/usr/share/icons/hicolor/scalable/apps" "$root/usr/share/metainfo"
cp -a dist/hearth "$root/opt/hearth"
ln -s /opt/hearth/hearth "$root/usr/bin/hearth"
install -m 644 resources/hearth.desktop "$root/usr/share/applications/hearth.desktop"
install -m 644 resources/icons/hearth.svg "$root/usr/share/icons/hicolor/scalable/apps/hearth.svg"
cp -r build/icons/hicolor/. "$root/usr/share/icons/hicolor/"
# The metadata's release is this build's version (one source: the package's), dated today.
sed "s|</component>|  <releases>\\n    <release version=\"${version}\" date=\"$(date -u +%F)\"/>\\n  </releases>\\n</component>|" \
  packaging/linux/io.github.hearth.Hearth.metainfo.xml > "$root/usr/share/metainfo/io.github.hearth.Hearth.metainfo.xml"
if command -v appstreamcli >/dev/null; then
  appstreamcli validate --no-net "$root/usr/share/metainfo/io.github.hearth.Hearth.metainfo.xml" >/dev/null
fi
# "t64" names: Debian 13 and Ubuntu 24.04 renamed these packages (64-bit time), same libraries.
depends="libc6 (>= ${glibc}), libstdc++6, libgcc-s1, libgomp1, zlib1g, libgl1, libegl1, libfontconfig1, \
libfreetype6, libx11-6, libx11-xcb1, libxcb1, libxcb-cursor0, libxcb-glx0, libxcb-icccm4, libxcb-image0, \
libxcb-keysyms1, libxcb-randr0, libxcb-render0, libxcb-render-util0, libxcb-shape0, libxcb-shm0, \
libxcb-sync1, libxcb-util1, libxcb-xfixes0, libxcb-xkb1, libxkbcommon0, libxkbcommon-x11-0, \
libwayland-client0, libwayland-cursor0, libwayland-egl1, libglib2.0-0t64 | libglib2.0-0, libdbus-1-3, \
libgssapi-krb5-2, libbrotli1, libzstd1, libssl3t64 | libssl3, libffi8, libsqlite3-0, libbz2-1.0, \
liblzma5, libuuid1, libreadline8t64 | libreadline8"
[ "${HEARTH_VARIANT:-}" = vulkan ] && depends="$depends, libvulkan1"
# GTK 3 and what Qt's GTK theme plugin links beside it (the plugin is opened on GNOME alone)
recommends="libgtk-3-0t64 | libgtk-3-0, libatk1.0-0t64 | libatk1.0-0, libcairo2, libcairo-gobject2, \
libpango-1.0-0, libpangocairo-1.0-0, libgdk-pixbuf-2.0-0, libharfbuzz0b"
"$(command -v python || command -v python3)" - "$depends, $recommends" <<'PY'
import os, re, subprocess, sys
from pathlib import Path

named = {re.sub(r"\s*\(.*\)", "", alt).strip() for dep in sys.argv[1].split(",") for alt in dep.split("|")}
bundle = Path("dist/hearth")
inside = {path.name for path in bundle.rglob("*")}
elves = [p for p in bundle.rglob("*") if p.is_file() and not p.is_symlink() and p.open("rb").read(4) == b"\x7fELF"]
needs: dict[str, str] = {}
for elf in elves:
    dynamic = subprocess.run(["readelf", "-d", str(elf)], capture_output=True, text=True).stdout
    for soname in re.findall(r"\(NEEDED\)\s+Shared library: \[(.+?)\]", dynamic):
        if soname not in inside:
            needs.setdefault(soname, str(elf.relative_to(bundle)))
# The NVIDIA driver's library: the person's, and the CUDA backend falls back to the CPU without it.
needs.pop("libcuda.so.1", None)
found = {}
for line in subprocess.run(["ldconfig", "-p"], capture_output=True, text=True).stdout.splitlines():
    match = re.match(r"\s*(\S+) \((.*?)\) => (\S+)", line)
    if match and "64" in match.group(2):  # this machine's own (64-bit) libraries, not i386 ones
        found.setdefault(match.group(1), match.group(3))
unnamed, unchecked = [], []
for soname, user in sorted(needs.items()):
    if soname not in found:
        unchecked.append(soname)
        continue
    owner = subprocess.run(["dpkg", "-S", os.path.realpath(found[soname])], capture_output=True, text=True)
    if owner.returncode != 0:
        owner = subprocess.run(["dpkg", "-S", found[soname]], capture_output=True, text=True)
    package = owner.stdout.split(":")[0] if owner.returncode == 0 else ""
    if package not in named:
        unnamed.append(f"{soname} ({package or 'no package'}, needed by {user})")
if unchecked:
    print(f"not installed here, so not checked against Depends: {' '.join(unchecked)}", file=sys.stderr)
if unnamed:
    sys.exit("the bundle needs libraries from packages its Depends does not name: " + "; ".join(unnamed))
PY
size_kib=$(du -sk "$root" | cut -f1)
# The limit Hearth holds itself to; past it, something the bundle should not carry got in.
if [ "$size_kib" -gt $((200 * 1024)) ]; then
  echo "error: installed, the .deb would take $((size_kib / 1024)) MB, over the 200 MB limit; see the bundle's largest files (build-bundle.sh)" >&2
  exit 1
fi
echo "installed size: $((size_kib / 1024)) MB"
cat > "$root/DEBIAN/control" <<CONTROL
Package: hearth
Version: ${version}
Architecture: ${arch}
Maintainer: The Hearth developers <hearth@example.invalid>
Installed-Size: ${size_kib}
Section: utils
Priority: optional
Depends: ${depends}
Recommends: ${recommends}
Homepage: https://github.com/hearth-app/hearth
Description: Run open language models offline
 Find open models on the Hugging Face Hub, download the GGUF quantisation that fits
 your machine, and chat privately; compare quantised builds side by side, with speed
 and quality measured on your own machine.
CONTROL
dpkg-deb --root-owner-group --build "$root" "dist/hearth_${version}_${arch}${suffix}.deb" >/dev/null
tar -C dist -czf "dist/hearth-${version}-linux-${arch}${suffix}.tar.gz" hearth
ls -l "dist/hearth_${version}_${arch}${suffix}.deb" "dist/hearth-${version}-linux-${arch}${suffix}.tar.gz"
