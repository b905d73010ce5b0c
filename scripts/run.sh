#!/usr/bin/env bash
# The README's run command: install from nothing and open the map of the bundled seeds.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
VENV=${VENV:-.venv}
exec "$VENV/bin/streamlit" run app.py "$@"
