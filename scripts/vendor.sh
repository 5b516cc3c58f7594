#!/usr/bin/env bash
# Install the browser files the app serves itself (Leaflet, pbf for the maps' vector tiles,
# Swagger UI) from the npm registry into app/static/vendor (git-ignored), so no page loads
# anything from a third-party host.
# The Dockerfile's first stage runs this same script. VENDOR_DIR puts the files elsewhere (the
# test of that stage, tests/test_docker.py, vendors into a temporary folder).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v npm >/dev/null; then
    echo "npm is missing: installing Debian's nodejs and npm" >&2
    bash scripts/apt-install.sh nodejs npm
fi
export SCARF_ANALYTICS=false   # swagger-ui-dist's install-time telemetry: off
(cd frontend && npm ci --prefer-offline --no-audit --no-fund --loglevel=error)
modules=frontend/node_modules
vendor=${VENDOR_DIR:-app/static/vendor}
rm -rf "$vendor"
mkdir -p "$vendor/leaflet/images" "$vendor/pbf" "$vendor/swagger-ui" "$vendor/axe-core"
cp "$modules/leaflet/dist/leaflet.js" "$modules/leaflet/dist/leaflet.css" "$vendor/leaflet/"
cp "$modules/leaflet/dist/images/"*.png "$vendor/leaflet/images/"
cp "$modules/leaflet/LICENSE" "$vendor/leaflet/LICENSE"
# pbf: the map script reads the asset tiles (/tiles/assets/...) with it (window.Pbf.PbfReader)
cp "$modules/pbf/dist/pbf.js" "$modules/pbf/LICENSE" "$vendor/pbf/"
cp "$modules/swagger-ui-dist/swagger-ui-bundle.js" "$modules/swagger-ui-dist/swagger-ui.css" \
    "$modules/swagger-ui-dist/LICENSE" "$vendor/swagger-ui/"
# axe-core: the accessibility tests inject it into each page (tests/test_accessibility.py)
cp "$modules/axe-core/axe.min.js" "$modules/axe-core/LICENSE" "$vendor/axe-core/"
touch "$vendor/.installed"
echo "vendored Leaflet, pbf, Swagger UI and axe-core into $vendor" >&2
