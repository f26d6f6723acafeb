#!/usr/bin/env bash
# Creates .venv and installs the project with Superset and the dev tools.
# Re-running is cheap: pip is skipped while pyproject.toml and the
# constraints file are unchanged since the last successful install.
set -euo pipefail
cd "$(dirname "$0")/.."

python_bin="${PYTHON:-python3.11}"
command -v "$python_bin" >/dev/null 2>&1 || python_bin=python3
venv=.venv
stamp="$venv/.installed"

if [ ! -x "$venv/bin/python" ]; then
    echo "bootstrap: creating $venv with $($python_bin --version)"
    "$python_bin" -m venv "$venv"
fi

wanted=$(cat pyproject.toml constraints.txt | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$wanted" ]; then
    echo "bootstrap: installing dotloop-reporter[superset,dev] (a few minutes)"
    "$venv/bin/python" -m pip install --quiet --upgrade pip
    "$venv/bin/python" -m pip install --quiet -c constraints.txt -e '.[superset,dev]'
    echo "$wanted" > "$stamp"
fi

# The broker portal serves the Superset embedded SDK from portal/node_modules,
# installed exactly as portal/package-lock.json pins it.
portal_stamp=portal/node_modules/.installed
portal_wanted=$(sha256sum portal/package-lock.json | cut -d' ' -f1)
if [ ! -f "$portal_stamp" ] || [ "$(cat "$portal_stamp")" != "$portal_wanted" ]; then
    if command -v npm >/dev/null 2>&1; then
        echo "bootstrap: installing the portal's npm packages"
        (cd portal && npm ci --no-audit --no-fund --silent)
        echo "$portal_wanted" > "$portal_stamp"
    else
        echo "bootstrap: npm not found; \`portal serve\` needs it (npm ci in portal/)"
    fi
fi
