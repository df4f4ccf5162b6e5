#!/usr/bin/env bash
# One command: set up everything the tests need, then run the linters and the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --dev
VENV=${CALLCENTER_VENV:-.venv}
echo "==> ruff"
"$VENV/bin/ruff" check .
"$VENV/bin/ruff" format --check .
echo "==> mypy"
"$VENV/bin/mypy"
echo "==> pytest"
# pytest exits 5 when it collected no test: that is a failure here, like any other non-zero code.
"$VENV/bin/pytest" "$@"
