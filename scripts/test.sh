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
# A worker that crashes is not replaced: with --dist loadfile, xdist 3.8.0 can wait forever
# after replacing one (pytest-xdist#1378); this way the run ends, naming the test.
.venv/bin/pytest -n "${NOWSERVING_TEST_WORKERS:-2}" --dist loadfile --max-worker-restart=0 "$@"
