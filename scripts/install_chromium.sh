#!/usr/bin/env bash
# Installs Debian's chromium and chromium-driver, which the browser tests and
# the render benchmark drive (Playwright launches /usr/bin/chromium; no
# browser is ever downloaded by Playwright itself).
# Re-running is cheap: nothing happens while both are installed.
set -euo pipefail

if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install_chromium: no apt-get here; install Chromium and its driver" \
        "so that /usr/bin/chromium and /usr/bin/chromedriver exist" >&2
    exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "install_chromium: run as root, or install them first:" \
        "apt-get install -y --no-install-recommends chromium chromium-driver" >&2
    exit 1
fi

echo "install_chromium: installing Debian's chromium and chromium-driver"
export DEBIAN_FRONTEND=noninteractive
# A fresh machine has no package lists yet.
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null
echo "install_chromium: $(/usr/bin/chromium --version)"
