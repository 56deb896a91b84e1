#!/usr/bin/env bash
# Build an offline wheelhouse: the plate-inspector wheel and every wheel it needs, for PCs
# without internet. Run once on a machine with internet (or a pip index); copy OUT_DIR over.
#
#   packaging/build_wheelhouse.sh OUT_DIR                       # this platform, app without torch
#   packaging/build_wheelhouse.sh OUT_DIR --train               # + torch & co. (several GB)
#   packaging/build_wheelhouse.sh OUT_DIR --dev                 # + the test tools, for a clone
#   packaging/build_wheelhouse.sh OUT_DIR --platform win_amd64 --python-version 3.12   # for Windows
#
# On the line PC (only Python >= 3.11 needed there):
#   OUT_DIR/install.sh [VENV]        or        OUT_DIR\install.bat [VENV]
# which run: python -m venv VENV; VENV's pip install --no-index --find-links OUT_DIR plate-inspector
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${PYTHON:-python3}"
OUT="${1:?usage: $0 OUT_DIR [--train|--dev] [--platform TAG --python-version X.Y]}"
shift
EXTRAS=""
TARGET=()
while [ $# -gt 0 ]; do
  case "$1" in
    --train) EXTRAS="[train]" ;;
    --dev) EXTRAS="[dev]" ;;  # for INSPECTOR_WHEELHOUSE=OUT_DIR scripts/test in a clone
    --platform) TARGET+=(--platform "$2" --only-binary=:all:); shift ;;
    --python-version) TARGET+=(--python-version "$2"); shift ;;
    *) echo "build_wheelhouse.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
"$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
  echo "build_wheelhouse.sh: needs Python >= 3.11 (PYTHON=$PY is $("$PY" -V 2>&1))" >&2; exit 1; }
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

echo "[wheelhouse] building the plate-inspector wheel"
(cd "$ROOT" && cp -r pyproject.toml setup.py MANIFEST.in README.md inspector models resources "$TMP/")
find "$TMP" -name __pycache__ -prune -exec rm -rf {} +
"$PY" -m pip wheel -q --no-deps -w "$OUT" "$TMP"
WHEEL="$(ls "$OUT"/plate_inspector-*.whl | tail -1)"

echo "[wheelhouse] downloading what plate-inspector$EXTRAS needs ${TARGET[*]:+(${TARGET[*]})}"
"$PY" -m pip download -q -d "$OUT" "${TARGET[@]}" "$WHEEL$EXTRAS"
# A clone's scripts/run installs the checkout editable: pip then builds it with setuptools.
"$PY" -m pip download -q -d "$OUT" "${TARGET[@]}" --only-binary=:all: "setuptools>=77"

cp "$ROOT/packaging/wheelhouse/install.sh" "$ROOT/packaging/wheelhouse/install.bat" "$OUT/"
chmod +x "$OUT/install.sh"
echo "[wheelhouse] $OUT: $(ls "$OUT"/*.whl | wc -l) wheels, $(du -sh "$OUT" | cut -f1)"
