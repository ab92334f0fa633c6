#!/usr/bin/env bash
# Load test: gunicorn (4 workers) + PostgreSQL on loopback, 40 locust users on the demo
# data, for DURATION (default 5m). Fails on any 5xx, more than 1 % failed requests, a
# confirmed write missing from the database, or an error in the server's log; with
# LOADTEST_RECORD=1 (make loadtest) records the figures in docs/performance.md.
# Usage: loadtest/run.sh [DURATION]   (make loadtest: 5m; make loadtest-short: 1m)
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${1:-5m}
USERS=${LOADTEST_USERS:-40}
PGHOST=${PGHOST:-127.0.0.1}
PGPORT=${PGPORT:-5432}
PGUSER=${PGUSER:-postgres}
export PGHOST PGPORT PGUSER
DBNAME=${LOADTEST_DB:-loadtest_tracker}
PORT=${LOADTEST_PORT:-8099}
OUT=${LOADTEST_OUT:-$(mktemp -d /tmp/tracker-loadtest.XXXXXX)}
BIN=.venv/bin
mkdir -p "$OUT"

echo "load test: $USERS users for $DURATION; output in $OUT"
dropdb --if-exists "$DBNAME"
createdb "$DBNAME"
export DATABASE_URL="postgresql+psycopg://$PGUSER@$PGHOST:$PGPORT/$DBNAME"
export UPLOAD_FOLDER="$OUT/uploads"
export MAIL_OUTBOX_DIR="$OUT/outbox"
export SECRET_KEY
SECRET_KEY=$($BIN/python -c 'import secrets; print(secrets.token_hex(32))')
export LOADTEST_WRITES="$OUT/writes.jsonl"
: > "$LOADTEST_WRITES"

TRACKER_ENV=development $BIN/python loadtest/prepare.py

# Production settings, as deployed; plain HTTP on loopback, so cookies without Secure.
TRACKER_ENV=production SESSION_COOKIE_SECURE=0 TRACKER_SCHEDULER=off \
  $BIN/gunicorn --workers 4 --bind "127.0.0.1:$PORT" --timeout 60 \
  --error-logfile "$OUT/gunicorn.log" wsgi:app &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null || true' EXIT
for _ in $(seq 1 60); do
  curl -fs -o /dev/null "http://127.0.0.1:$PORT/login" && break
  sleep 1
done

LOAD_START=$(cut -d' ' -f1 /proc/loadavg)
status=0
$BIN/locust -f loadtest/locustfile.py --headless --users "$USERS" --spawn-rate 2 \
  --run-time "$DURATION" --stop-timeout 10 --reset-stats --host "http://127.0.0.1:$PORT" \
  --csv "$OUT/stats" --only-summary --loglevel WARNING || status=$?
kill "$SERVER" 2>/dev/null || true
wait "$SERVER" 2>/dev/null || true

# Only the full run (make loadtest, LOADTEST_RECORD=1) rewrites docs/performance.md.
RECORD=()
[ -n "${LOADTEST_RECORD:-}" ] && RECORD=(--record)
$BIN/python loadtest/verify.py "$LOADTEST_WRITES" "$OUT/stats_stats.csv" "${RECORD[@]}" \
  --users="$USERS" --duration="$DURATION" --load-start="$LOAD_START" || status=1
if grep -E "Traceback|database is locked|unexpected error" "$OUT/gunicorn.log"; then
  echo "errors in the server's log ($OUT/gunicorn.log)" >&2
  status=1
fi
echo "load test finished with status $status (details in $OUT)"
exit $status
