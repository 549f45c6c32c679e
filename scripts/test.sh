#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine for the full test suite and runs it.
# Debian packages: chromium (browser tests, PDF charts), poppler-utils (PDF checks), prometheus (live-source tests),
# pango (weasyprint lays out the PDF report), python3-venv (the virtual environment the packages go into).
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
if ! command -v chromium >/dev/null || ! command -v pdftoppm >/dev/null || ! command -v prometheus >/dev/null \
   || ! ldconfig -p | grep -q libpangoft2-1.0 || ! python3 -c "import ensurepip, venv" 2>/dev/null; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    chromium poppler-utils prometheus python3-venv fonts-dejavu-core libpango-1.0-0 libpangoft2-1.0-0 >/dev/null
fi
# Debian's python3 refuses pip outside a virtual environment (PEP 668): use ./.venv unless one is active.
if [ -z "${VIRTUAL_ENV:-}" ]; then
  [ -x .venv/bin/python3 ] || python3 -m venv .venv
  # shellcheck disable=SC1091
  . .venv/bin/activate
fi
python3 -m pip install -q -r requirements-dev.txt -e .
exec python3 -m pytest "$@"
