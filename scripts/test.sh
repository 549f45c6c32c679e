#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine for the full test suite and runs it.
# Debian packages: chromium (browser tests, PDF charts), poppler-utils (PDF checks), prometheus (live-source tests),
# pango (weasyprint lays out the PDF report).
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
if ! command -v chromium >/dev/null || ! command -v pdftoppm >/dev/null || ! command -v prometheus >/dev/null \
   || ! ldconfig -p | grep -q libpangoft2-1.0; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    chromium poppler-utils prometheus fonts-dejavu-core libpango-1.0-0 libpangoft2-1.0-0 >/dev/null
fi
python3 -m pip install -q -r requirements-dev.txt -e .
exec python3 -m pytest "$@"
