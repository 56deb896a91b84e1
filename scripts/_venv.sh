# Sourced by scripts/run and scripts/test: one environment (.venv) serves both.
#
# scripts/test needs the [dev] extra, scripts/run the [train] extra, and dev includes train: so a
# venv installed for tests serves the app as is, and one installed for the app is topped up once
# for tests. Nothing is reinstalled when switching; only a changed pyproject.toml or setup.py
# reinstalls (keeping the larger extra). The stamp file holds "HASH EXTRA".
#
#   PYTHON=python3.12        the interpreter for a new venv (default: the first >= 3.11 of
#                            python3, python3.13, python3.12, python3.11)
#   INSPECTOR_VENV=DIR       another venv folder (default: .venv beside pyproject.toml)
#   INSPECTOR_WHEELHOUSE=DIR install offline from a wheelhouse (packaging/build_wheelhouse.sh)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${INSPECTOR_VENV:-$ROOT/.venv}"
STAMP="$VENV/.plate-inspector-install"
LOG="$VENV/pip-install.log"

say() { echo "[setup] $*" >&2; }
die() { echo "[setup] error: $*" >&2; exit 1; }

# "3.11.7" if $1 runs and is >= 3.11; nothing (and status 1) otherwise.
python_ok() {
  "$1" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3]); sys.exit(sys.version_info < (3, 11))' 2>/dev/null
}

find_python() {
  local candidates=("${PYTHON:-}") py
  [ -n "${PYTHON:-}" ] || candidates=(python3 python3.13 python3.12 python3.11)
  for py in "${candidates[@]}"; do
    if command -v "$py" >/dev/null 2>&1 && python_ok "$py" >/dev/null; then
      echo "$py"
      return 0
    fi
  done
  local found="none of ${candidates[*]}"
  [ -n "${PYTHON:-}" ] && found="PYTHON=$PYTHON (not found)"
  for py in "${candidates[@]}"; do
    if command -v "$py" >/dev/null 2>&1; then
      found="$py is $("$py" -V 2>&1 | head -1) ($(command -v "$py"))"
      break
    fi
  done
  die "Plate Inspector needs Python >= 3.11; found: $found. Install Python 3.11 or newer" \
    "(Debian/Ubuntu: sudo apt-get install python3.11 python3.11-venv; Windows: python.org)" \
    "or point PYTHON at one: PYTHON=/path/to/python3.11 $0"
}

extra_covers() {  # does the installed extra $1 include the wanted extra $2?
  [ "$1" = "$2" ] || [ "$1" = "dev" ]
}

source_hash() {
  cat "$ROOT/pyproject.toml" "$ROOT/setup.py" 2>/dev/null | sha256sum | cut -d' ' -f1
}

# Run pip, show the packages it collects and installs, keep everything in $LOG.
pip_shown() {
  set +e
  "$VENV/bin/python" -m pip "$@" --progress-bar off 2>&1 | tee -a "$LOG" \
    | grep --line-buffered -E '^(Collecting|Processing|Installing collected|Successfully installed|ERROR)' \
    | sed -u -E 's/^(.{110}).+/\1 …/; s/^/[setup]   /' >&2
  local rc=${PIPESTATUS[0]}
  set -e
  if [ "$rc" -ne 0 ]; then
    tail -n 15 "$LOG" >&2
    die "pip failed (exit $rc); the full log is $LOG"
  fi
}

ensure_venv() {  # $1 = the extra this script needs: train | dev
  local want="$1" have_hash="" have_extra="" hash
  hash="$(source_hash)"
  if [ -x "$VENV/bin/python" ]; then
    python_ok "$VENV/bin/python" >/dev/null \
      || die "$VENV uses $("$VENV/bin/python" -V 2>&1); Plate Inspector needs Python >= 3.11: remove $VENV and run again"
    if [ -f "$STAMP" ]; then
      read -r have_hash have_extra < "$STAMP" || true
    fi
    if [ "$have_hash" = "$hash" ] && extra_covers "$have_extra" "$want"; then
      return 0
    fi
  else
    local py version
    py="$(find_python)"
    version="$(python_ok "$py")"
    say "creating $VENV with $py (Python $version)"
    "$py" -m venv "$VENV" 2>/dev/null || die "$py cannot create a venv; on Debian/Ubuntu:" \
      "sudo apt-get install python${version%.*}-venv"
  fi
  # Never narrow: a venv that had [dev] keeps it, so switching back costs nothing.
  local extra="$want"
  [ "$have_extra" = "dev" ] && extra="dev"
  if [ -z "$have_hash" ]; then
    say "installing plate-inspector[$extra] into $VENV: numpy, OpenCV, ONNX Runtime, Qt, torch"
    say "(into a new venv: a few minutes and about 7 GB; the full pip log is $LOG)"
  else
    say "pyproject.toml changed or [$want] is new here: updating plate-inspector[$extra] in $VENV"
  fi
  local offline=()
  if [ -n "${INSPECTOR_WHEELHOUSE:-}" ]; then
    offline=(--no-index --find-links "$INSPECTOR_WHEELHOUSE")
    say "offline: installing from the wheelhouse $INSPECTOR_WHEELHOUSE"
  fi
  : > "$LOG"
  if [ ${#offline[@]} -eq 0 ]; then
    say "step 1/2: upgrading pip"
    pip_shown install -q --upgrade pip
  fi
  say "step 2/2: installing plate-inspector[$extra] and its dependencies (editable: your checkout;"
  say "          after \"Installing collected packages\" pip unpacks them: the longest, silent part)"
  pip_shown install "${offline[@]}" -e "$ROOT[$extra]"
  echo "$hash $extra" > "$STAMP"
  say "done: $VENV serves both scripts/run and scripts/test"
}
