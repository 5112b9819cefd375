#!/bin/bash
# Creates the virtualenv for the smartnoise-synth peer (MST, AIM) and installs requirements.txt.
# Idempotent: an existing venv is reused, and pip is skipped when the venv already holds exactly
# this requirements.txt (a stamp file records its hash).
#
#   SMARTNOISE_VENV    where the venv goes (default ~/.cache/smartnoise-peer/venv)
#   PYTHON             interpreter to build it from (default python3; needs 3.11 or newer)
#   SMARTNOISE_NO_TORCH=1  leave out torch, opacus, triton, nvidia-* and cuda-* (about 6 GB that
#                      only smartnoise's GAN synthesizers use); everything else is installed with
#                      --no-deps at the pinned versions. `pip check` then reports opacus missing;
#                      MST and AIM run the same.
set -euo pipefail
D=$(cd "$(dirname "$0")" && pwd)
V=${SMARTNOISE_VENV:-$HOME/.cache/smartnoise-peer/venv}
PY=${PYTHON:-python3}
REQ="$D/requirements.txt"

if [ ! -x "$V/bin/python" ]; then
  mkdir -p "$(dirname "$V")"
  "$PY" -m venv "$V"
fi
"$V/bin/python" -c 'import sys; assert sys.version_info >= (3, 11), sys.version' \
  || { echo "the venv's python must be 3.11 or newer (jax, mbi); set PYTHON" >&2; exit 1; }

MODE=full
[ "${SMARTNOISE_NO_TORCH:-0}" = 1 ] && MODE=no-torch
STAMP="$V/.smartnoise-peer-stamp"
WANT="$(sha256sum "$REQ" | cut -d' ' -f1) $MODE"
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ]; then
  echo "smartnoise peer venv up to date: $V"
  exit 0
fi

if [ "$MODE" = full ]; then
  nice -n 10 "$V/bin/pip" install -r "$REQ"
else
  TMP=$(mktemp)
  trap 'rm -f "$TMP"' EXIT
  grep -v -E '^(torch|opacus|triton|nvidia-[^=]*|cuda-[^=]*)==' "$REQ" > "$TMP"
  nice -n 10 "$V/bin/pip" install --no-deps -r "$TMP"
fi
"$V/bin/python" -c 'from snsynth.mst.mst import MSTSynthesizer; from snsynth.aim import AIMSynthesizer'
echo "$WANT" > "$STAMP"
echo "smartnoise peer venv ready: $V ($MODE)"
