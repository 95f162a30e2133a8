#!/usr/bin/env bash
# scripts/demo.sh - the end-to-end demo on the sample keyword spotter:
#   1. install what is missing (scripts/install.sh),
#   2. build the bare-metal firmware (samples/firmware), run it in QEMU
#      mps2-an386 and print its class, score, instructions and RAM/flash,
#   3. `tinycc verify` the model in QEMU against TFLite Micro on 20 random
#      inputs (bit-exactness, instructions per inference, RAM/flash).
# Exits non-zero on any failure.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"

step() { printf '\n==> %s\n' "$*"; }

step "scripts/install.sh"
bash scripts/install.sh

step "make -C samples/firmware run"
make --no-print-directory -C samples/firmware run

step "make -C samples/firmware reference"
make --no-print-directory -C samples/firmware reference

step "python3 -m tinycc verify samples/kws_tiny_int8.tflite --target cortex-m4 --samples 20"
python3 -m tinycc verify samples/kws_tiny_int8.tflite --target cortex-m4 --samples 20

printf '\ndemo: OK\n'
