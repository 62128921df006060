#!/usr/bin/env bash
# Install everything the tests need, then run lint, type checks and the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh test
export QT_QPA_PLATFORM=offscreen
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
.venv/bin/lint-imports --no-cache
# One worker per core (at most 2 by default), each module whole on one worker: its hub
# or browser is shared by its tests. NOWSERVING_TEST_WORKERS=0 runs in this process.
.venv/bin/pytest -n "${NOWSERVING_TEST_WORKERS:-2}" --dist loadfile "$@"
