#!/usr/bin/env bash
# dist/hearth-<version>-macos-<arch>.dmg: Hearth.app beside a link to /Applications, to drag
# across. Built from dist/Hearth.app (build-bundle.sh makes it on macOS; run first if missing).
#
# Signing and notarisation are driven by the environment:
#   HEARTH_CODESIGN_IDENTITY  a "Developer ID Application: ..." identity in the keychain; the
#                             spec signs every binary and the app with it (hardened runtime,
#                             entitlements.plist), and this signs the disk image. Unset: the
#                             app is signed ad hoc, which runs where it was built and makes
#                             Gatekeeper ask elsewhere.
#   HEARTH_NOTARY_PROFILE     a notarytool keychain profile (xcrun notarytool store-credentials),
#   or APPLE_ID, APPLE_TEAM_ID and APPLE_APP_PASSWORD
#                             notarise the image with Apple and staple the ticket to it. Unset:
#                             not notarised (said at the end).
# Removing Hearth is dragging it to the Bin; models, chats and settings stay in
# ~/Library/Application Support/Hearth (and Logs, Caches) until deleted.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -d dist/Hearth.app ] || packaging/build-bundle.sh
app=dist/Hearth.app
version=$("$app/Contents/MacOS/hearth" --version | awk '{print $2}')
arch=$(uname -m)
dmg="dist/hearth-${version}-macos-${arch}.dmg"
identity=${HEARTH_CODESIGN_IDENTITY:-}

codesign --verify --deep --strict "$app"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
cp -R "$app" "$stage/"
ln -s /Applications "$stage/Applications"
rm -f "$dmg"
hdiutil create -volname "Hearth ${version}" -srcfolder "$stage" -fs HFS+ -format UDZO -ov "$dmg" >/dev/null

if [ -n "$identity" ]; then
  codesign --force --timestamp --sign "$identity" "$dmg"
  if [ -n "${HEARTH_NOTARY_PROFILE:-}" ]; then
    xcrun notarytool submit "$dmg" --keychain-profile "$HEARTH_NOTARY_PROFILE" --wait
  elif [ -n "${APPLE_ID:-}" ] && [ -n "${APPLE_TEAM_ID:-}" ] && [ -n "${APPLE_APP_PASSWORD:-}" ]; then
    xcrun notarytool submit "$dmg" --apple-id "$APPLE_ID" --team-id "$APPLE_TEAM_ID" \
      --password "$APPLE_APP_PASSWORD" --wait
  else
    echo "not notarised: set HEARTH_NOTARY_PROFILE, or APPLE_ID, APPLE_TEAM_ID and APPLE_APP_PASSWORD" >&2
    ls -l "$dmg"
    exit 0
  fi
  xcrun stapler staple "$dmg"
  spctl --assess --type open --context context:primary-signature --verbose "$dmg"
else
  echo "signed ad hoc, not notarised: set HEARTH_CODESIGN_IDENTITY for a Developer ID signature" >&2
fi
ls -l "$dmg"
