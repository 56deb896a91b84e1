#!/usr/bin/env bash
# Build the PyInstaller bundle dist/plate-inspector/ and smoke-start it offscreen.
#
#   packaging/build_bundle.sh            # build + smoke test + size/start-time table
#   packaging/build_bundle.sh --smoke    # only the smoke test of an existing bundle
#
# Uses its own venv (build/bundle/venv: the app's runtime dependencies with CPU ONNX Runtime,
# the app from its wheel, PyInstaller; no torch), never the development .venv. Needs the
# internet (or a pip index) once; a few minutes. Not part of CI.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="$ROOT/build/bundle"
VENV="$BUILD/venv"
DIST="$ROOT/dist"
PY="${PYTHON:-python3}"
say() { echo "[bundle] $*"; }

if [ "${1:-}" != "--smoke" ]; then
  "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
    echo "packaging/build_bundle.sh: needs Python >= 3.11 (PYTHON=$PY is $("$PY" -V 2>&1))" >&2
    exit 1
  }
  rm -rf "$BUILD" "$DIST/plate-inspector"
  mkdir -p "$BUILD"
  say "creating the build venv $VENV ($("$PY" -V))"
  "$PY" -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --upgrade pip
  say "building the plate-inspector wheel (from a copy: the checkout gets no build/ or egg-info)"
  mkdir -p "$BUILD/src"
  (cd "$ROOT" && cp -r pyproject.toml setup.py MANIFEST.in README.md inspector models resources "$BUILD/src/")
  find "$BUILD/src" -name __pycache__ -prune -exec rm -rf {} +
  "$VENV/bin/python" -m pip wheel -q --no-deps -w "$BUILD/wheels" "$BUILD/src"
  say "installing the runtime dependencies (CPU onnxruntime, no torch) and PyInstaller"
  "$VENV/bin/python" "$ROOT/packaging/requirements.py" > "$BUILD/requirements.txt"
  "$VENV/bin/python" -m pip install -q -r "$BUILD/requirements.txt" "pyinstaller>=6.10,<7"
  "$VENV/bin/python" -m pip install -q --no-deps "$BUILD"/wheels/plate_inspector-*.whl
  say "running PyInstaller (a few minutes)"
  start=$(date +%s)
  (cd "$BUILD" && "$VENV/bin/pyinstaller" --noconfirm --log-level WARN \
      --distpath "$DIST" --workpath "$BUILD/work" "$ROOT/packaging/plate-inspector.spec")
  say "built $DIST/plate-inspector in $(( $(date +%s) - start )) s"
  # The desktop entry, its installer and the icon travel with the bundle.
  mkdir -p "$DIST/plate-inspector/linux"
  cp "$ROOT"/packaging/linux/* "$ROOT/resources/icons/plate-inspector.svg" \
    "$ROOT/packaging/icons/plate-inspector.png" "$DIST/plate-inspector/linux/"
  say "packing $DIST/plate-inspector-linux-$(uname -m).tar.gz (what goes to the line PCs)"
  tar -C "$DIST" -czf "$DIST/plate-inspector-linux-$(uname -m).tar.gz" plate-inspector
  say "archive: $(du -h "$DIST/plate-inspector-linux-$(uname -m).tar.gz" | cut -f1)"
fi

say "smoke test (offscreen): the bundle against the Python install of the same wheel"
QT_QPA_PLATFORM=offscreen "$VENV/bin/python" "$ROOT/packaging/smoke.py" \
  --bundle "$DIST/plate-inspector" --python-install "$VENV"
