#!/usr/bin/env bash
# Runs every benchmark at a size that fits a laptop; each prints its figures.
# Larger runs: call the scripts directly with their --help options.
set -euo pipefail
cd "$(dirname "$0")/.."
py=.venv/bin/python

# bench_render measures dashboards in Debian's chromium.
bash scripts/install_chromium.sh

for bench in bench/bench_*.py; do
    echo "== $bench"
    "$py" -m "bench.$(basename "$bench" .py)"
done
