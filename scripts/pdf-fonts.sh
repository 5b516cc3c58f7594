#!/usr/bin/env bash
# The fonts the printable leaflets need for Urdu (Noto Nastaliq/Naskh) and Punjabi (Noto Sans
# Gurmukhi); WeasyPrint finds them through fontconfig. Installs Debian's fonts-noto-core once.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! fc-list 2>/dev/null | grep -q "Noto Sans Gurmukhi"; then
    echo "fonts for Urdu and Punjabi leaflets are missing: installing fonts-noto-core" >&2
    bash scripts/apt-install.sh fonts-noto-core fontconfig
fi
