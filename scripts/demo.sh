#!/usr/bin/env bash
# Install what the apps need, then start the demo office on this PC.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh run
exec .venv/bin/nowserving demo "$@"
