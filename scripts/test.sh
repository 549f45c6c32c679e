#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine for the full test suite and runs it.
# Debian packages: chromium (browser tests), poppler-utils (PDF checks), prometheus (live-source tests).
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
if ! command -v chromium >/dev/null || ! command -v pdftoppm >/dev/null || ! command -v prometheus >/dev/null; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    chromium poppler-utils prometheus fonts-dejavu-core >/dev/null
fi
python3 -m pip install -q -r requirements-dev.txt -e .
exec python3 -m pytest "$@"
