#!/usr/bin/env bash
# A deeper Schemathesis pass than `make test` runs: every operation, many examples, anonymous and
# with an admin key, against a scratch database (assetmap_fuzz) so the writes it makes are thrown
# away. Usage: make fuzz [EXAMPLES=200]
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
EXAMPLES=${EXAMPLES:-200}
PORT=${FUZZ_PORT:-8040}
export DATABASE_URL=${FUZZ_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/assetmap_fuzz}
export LOG_LEVEL=warning ASSETMAP_RATE_BULK_PER_S=1000 ASSETMAP_RATE_WRITE_PER_S=1000 \
    ASSETMAP_RATE_SUBMISSION_PER_S=1000

$BIN/assetmap db bootstrap
$BIN/assetmap load all
KEY=$($BIN/assetmap keys create --role admin --name "make fuzz $(date +%s)" | tail -1)
$BIN/assetmap serve --port "$PORT" --workers 2 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; $BIN/assetmap keys revoke "${KEY%%.*}" >/dev/null 2>&1 || true' EXIT
for _ in $(seq 60); do curl -fs "http://127.0.0.1:$PORT/health/live" >/dev/null && break; sleep 0.5; done

# One worker each: threads can trip CPython 3.11's "AST constructor recursion depth mismatch".
CHECKS=not_a_server_error,response_schema_conformance,status_code_conformance
status=0
echo "== anonymous"
$BIN/st run "http://127.0.0.1:$PORT/openapi.json" --checks "$CHECKS" --max-examples "$EXAMPLES" \
    --workers 1 --generation-database none || status=1
echo "== with an admin key"
$BIN/st run "http://127.0.0.1:$PORT/openapi.json" --checks "$CHECKS" --max-examples "$EXAMPLES" \
    --workers 1 --generation-database none -H "X-API-Key: $KEY" || status=1
exit $status
