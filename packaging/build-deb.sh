#!/usr/bin/env bash
# dist/hearth_<version>_<arch>.deb and dist/hearth-<version>-linux-<arch>.tar.gz from the
# one-folder bundle (built first when dist/hearth is missing; see build-bundle.sh).
#
# The .deb puts the app in /opt/hearth, a link at /usr/bin/hearth, the desktop entry, the
# icon and the AppStream metadata; Depends names the desktop libraries the bundle leaves to
# the system (X11/xcb and Wayland, fonts, GLib, GL), and the oldest glibc the bundle's
# programs and libraries ask for (the newest GLIBC_ symbol version any of them needs). The
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
size_kib=$(du -sk "$root" | cut -f1)
cat > "$root/DEBIAN/control" <<CONTROL
Package: hearth
Version: ${version}
Architecture: ${arch}
Maintainer: The Hearth developers <hearth@example.invalid>
Installed-Size: ${size_kib}
Section: utils
Priority: optional
Depends: libc6 (>= ${glibc}), libgl1, libegl1, libfontconfig1, libfreetype6, libx11-6, libx11-xcb1, libxcb1, libxcb-cursor0, libxcb-icccm4, libxcb-image0, libxcb-keysyms1, libxcb-randr0, libxcb-render-util0, libxcb-shape0, libxcb-xkb1, libxkbcommon0, libxkbcommon-x11-0, libwayland-client0, libwayland-cursor0, libglib2.0-0t64 | libglib2.0-0, libdbus-1-3
Homepage: https://github.com/hearth-app/hearth
Description: Run open language models offline
 Find open models on the Hugging Face Hub, download the GGUF quantisation that fits
 your machine, and chat privately; compare quantised builds side by side, with speed
 and quality measured on your own machine.
CONTROL
dpkg-deb --root-owner-group --build "$root" "dist/hearth_${version}_${arch}${suffix}.deb" >/dev/null
tar -C dist -czf "dist/hearth-${version}-linux-${arch}${suffix}.tar.gz" hearth
ls -l "dist/hearth_${version}_${arch}${suffix}.deb" "dist/hearth-${version}-linux-${arch}${suffix}.tar.gz"
