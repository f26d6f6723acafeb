#!/usr/bin/env bash
# Lint, type-check and run the whole test suite against real services.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=.venv/bin

# The chart tests render with helm, which only the tests need.
bash scripts/install_helm.sh
# The portal browser tests drive Debian's chromium.
bash scripts/install_chromium.sh

"$bin/ruff" check .
"$bin/ruff" format --check .
"$bin/mypy"

# pytest exits 5 when it collected nothing: that is a failure here, since the
# suite is never meant to be empty.
set +e
"$bin/pytest" "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
    echo "test: pytest collected no tests" >&2
    exit 1
fi
exit "$status"
