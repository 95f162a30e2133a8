#!/usr/bin/env bash
# scripts/fuzz.sh [N] [SECONDS] [--seed S] [--workers W] - a long fuzzing run with one command.
#
# Builds up to N mutants (default 100000) of the shared models, for at most SECONDS
# (default 3600), in-process through tinycc.driver.build, one worker per CPU: bit flips,
# byte sets, structural fields (offsets, vector lengths, vtables, indices, shapes, scales,
# options) set to extremes, truncations, splices and chunks of two models, and (--ops,
# default 15%) random single-op models with extreme parameters (see
# tests/test_fuzz.py). Every outcome must be a build or a one-line TinyccError naming the
# file, with no output left behind, no hang (20 s per mutant) and no gigabytes (3 GB of
# extra address space). Failing inputs are written to tests/regressions/fuzz-<hash>.tflite;
# the exit status is 1 if there were any. The seed (printed) defaults to the time.
# TINYCC_MODELS names the folder of the shared models (default ../shared/models).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
exec python3 -m tests.test_fuzz "$@"
