#!/usr/bin/env bash
# Offline install of Plate Inspector from this folder (a wheelhouse): no internet needed.
#   ./install.sh [VENV]      (default VENV: ~/plate-inspector-venv; needs Python >= 3.11)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="${1:-$HOME/plate-inspector-venv}"
PY="${PYTHON:-python3}"
"$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || {
  echo "install.sh: Plate Inspector needs Python >= 3.11; $PY is $("$PY" -V 2>&1 || echo missing)." \
    "Install it (Debian/Ubuntu: sudo apt-get install python3.11 python3.11-venv) or set PYTHON=" >&2
  exit 1
}
echo "[install] creating $VENV"
"$PY" -m venv "$VENV"
echo "[install] installing plate-inspector from $HERE (offline)"
"$VENV/bin/python" -m pip install --no-index --find-links "$HERE" plate-inspector
echo "[install] done: start it with $VENV/bin/inspector"
