#!/usr/bin/env bash
# scripts/test.sh - install what is missing, then run the test suite.
# Extra arguments go to pytest, e.g. `bash scripts/test.sh -k firmware -x`.
# The tests run in parallel (pytest-xdist), one worker per CPU; TINYCC_TEST_WORKERS
# sets the number (`-n 0` among the arguments runs them in this process).
# TINYCC_MODELS names the folder of the shared MLPerf Tiny models (.ci/run sets
# it to ../shared/models); when it is set, a missing model fails its test. When
# it is unset, tests look in ../shared/models and skip the models not found.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"

bash scripts/install.sh
echo "test: TINYCC_MODELS=${TINYCC_MODELS:-(unset: ../shared/models, missing models skip)}"
exec python3 -m pytest -q -n "${TINYCC_TEST_WORKERS:-auto}" "$@"
