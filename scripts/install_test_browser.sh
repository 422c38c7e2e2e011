#!/bin/sh
# Installs the headless browser that tests/test_ui_browser.py drives: Debian's
# `chromium` and `chromium-driver` (/usr/bin/chromium, /usr/bin/chromedriver),
# from the distribution's own repository; the test tool never downloads a
# browser or a driver. Idempotent: does nothing when both are there.
#
#   sudo scripts/install_test_browser.sh     # CI, before pytest
#
# Without root or apt-get it explains what is missing and exits 0: the browser
# test then skips, naming this script. Set CXTEXT_CHROMIUM / CXTEXT_CHROMEDRIVER
# to point the test at binaries installed elsewhere.
set -eu

CHROMIUM="${CXTEXT_CHROMIUM:-/usr/bin/chromium}"
CHROMEDRIVER="${CXTEXT_CHROMEDRIVER:-/usr/bin/chromedriver}"

have() { [ -x "$CHROMIUM" ] && [ -x "$CHROMEDRIVER" ]; }

if have; then
    echo "install_test_browser: $CHROMIUM and $CHROMEDRIVER are already installed"
    exit 0
fi

if [ "$(id -u)" != 0 ]; then
    echo "install_test_browser: $CHROMIUM or $CHROMEDRIVER is missing and this is not root;" \
         "run 'sudo $0' (Debian/Ubuntu: apt-get install chromium chromium-driver)." \
         "The browser test (pytest -m browser) will be skipped." >&2
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install_test_browser: $CHROMIUM or $CHROMEDRIVER is missing and there is no apt-get;" \
         "install Chromium and a matching chromedriver with the system's package manager and set" \
         "CXTEXT_CHROMIUM / CXTEXT_CHROMEDRIVER. The browser test (pytest -m browser) will be skipped." >&2
    exit 0
fi

export DEBIAN_FRONTEND=noninteractive
echo "install_test_browser: apt-get install chromium chromium-driver"
apt-get update -qq
# no recommends (they pull in GL drivers, upower, a printer GUI); DejaVu has the
# Arabic-script glyphs the screenshots need, Liberation the Latin metrics
apt-get install -y -qq --no-install-recommends chromium chromium-driver fonts-dejavu-core fonts-liberation >/dev/null

if have; then
    echo "install_test_browser: installed $("$CHROMIUM" --version 2>/dev/null || echo chromium)," \
         "$("$CHROMEDRIVER" --version 2>/dev/null | cut -d' ' -f1-2 || echo chromedriver)"
else
    echo "install_test_browser: apt-get finished but $CHROMIUM or $CHROMEDRIVER is still missing" \
         "(on Ubuntu 'chromium' is a snap stub: install Debian's or Google's build and set" \
         "CXTEXT_CHROMIUM / CXTEXT_CHROMEDRIVER). The browser test will be skipped." >&2
fi
exit 0
