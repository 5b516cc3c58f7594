#!/usr/bin/env bash
# Install Debian packages the tests need (e.g. chromium), refreshing the package lists only when
# the first attempt fails; waits for another apt to finish instead of failing on its lock.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
install() { apt-get -o DPkg::Lock::Timeout=300 install -y --no-install-recommends "$@"; }
install "$@" || { apt-get -o DPkg::Lock::Timeout=300 update && install "$@"; }
