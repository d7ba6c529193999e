#!/usr/bin/env bash
# Install the Debian packages the test suite drives, when they are missing: chromium (Playwright browser tests
# use /usr/bin/chromium; no browser download) and a Java runtime >= 17 (the Spark engine tests).
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
if ! command -v java >/dev/null 2>&1; then need+=(openjdk-17-jre-headless); fi
if [ ${#need[@]} -gt 0 ]; then
  echo "system-deps: installing ${need[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
