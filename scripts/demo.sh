#!/usr/bin/env bash
# One command: set up on a fresh Debian 12 machine and run the demo console at http://127.0.0.1:5000
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/callcenter --instance "${CALLCENTER_INSTANCE_PATH:-instance}" demo "$@"
