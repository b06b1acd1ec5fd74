#!/usr/bin/env bash
# Quick start: install Palabre in .venv (first run only) and start the demo brand on
# http://127.0.0.1:8000. Extra arguments go to `palabre demo` (see `palabre demo --help`).
set -euo pipefail

cd "$(dirname "$0")/.."
VENV=.venv
PYTHON=${PYTHON:-python3}

if [ ! -x "$VENV/bin/python" ]; then
    echo "Creating the virtual environment in $VENV..."
    "$PYTHON" -m venv "$VENV" || {
        echo "Could not create a virtual environment; on Debian/Ubuntu: apt-get install python3-venv" >&2
        exit 1
    }
fi
stamp="$VENV/.palabre-demo-installed"
wanted=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ] || ! "$VENV/bin/python" -c "import palabre" 2>/dev/null; then
    echo "Installing Palabre (a minute on first run)..."
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e .
    echo "$wanted" >"$stamp"
fi
exec "$VENV/bin/palabre" demo "$@"
