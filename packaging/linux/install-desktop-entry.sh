#!/usr/bin/env bash
# Add Plate Inspector to the desktop's application menu (for the current user).
#
#   /opt/plate-inspector/linux/install-desktop-entry.sh        # from an unpacked bundle
#   packaging/linux/install-desktop-entry.sh "$HOME/plate-inspector/.venv/bin/inspector"
#
# Writes only ~/.local/share/applications/plate-inspector.desktop and the icon under
# ~/.local/share/icons/hicolor/; remove those two files to undo.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PROGRAM="${1:-}"
# Inside a bundle (dist/plate-inspector/linux/) the program is one folder up.
[ -z "$PROGRAM" ] && [ -x "$HERE/../plate-inspector" ] && PROGRAM="$HERE/../plate-inspector"
if [ -z "$PROGRAM" ] || [ ! -x "$PROGRAM" ]; then
  echo "usage: $0 PATH_TO_PROGRAM (the bundle's plate-inspector or a venv's bin/inspector)" >&2
  exit 2
fi
PROGRAM="$(cd "$(dirname "$PROGRAM")" && pwd)/$(basename "$PROGRAM")"
DATA="${XDG_DATA_HOME:-$HOME/.local/share}"
# Icons beside this script (a bundle) or in the checkout.
ICON_SVG="$HERE/plate-inspector.svg"
[ -f "$ICON_SVG" ] || ICON_SVG="$HERE/../../resources/icons/plate-inspector.svg"
ICON_PNG="$HERE/plate-inspector.png"
[ -f "$ICON_PNG" ] || ICON_PNG="$HERE/../icons/plate-inspector.png"
mkdir -p "$DATA/applications" "$DATA/icons/hicolor/scalable/apps" "$DATA/icons/hicolor/256x256/apps"
if [ -f "$ICON_SVG" ]; then cp "$ICON_SVG" "$DATA/icons/hicolor/scalable/apps/plate-inspector.svg"; fi
if [ -f "$ICON_PNG" ]; then cp "$ICON_PNG" "$DATA/icons/hicolor/256x256/apps/plate-inspector.png"; fi
# Exec needs the full path; a path with spaces is quoted as the desktop entry spec asks.
sed "s|^Exec=.*|Exec=\"$PROGRAM\"|" "$HERE/plate-inspector.desktop" \
  > "$DATA/applications/plate-inspector.desktop"
chmod 644 "$DATA/applications/plate-inspector.desktop"
command -v update-desktop-database >/dev/null && update-desktop-database -q "$DATA/applications" || true
echo "installed $DATA/applications/plate-inspector.desktop -> $PROGRAM"
