#!/usr/bin/env bash
# Security checks for CI, each stage with its own time limit:
#   1. bandit: no medium or high finding beyond those explained in
#      scripts/bandit-baseline.json (see docs/security.md, "Static analysis");
#   2. pip-audit on constraints.txt: no known vulnerability in a pinned dependency;
#   3. schemathesis against /api/v1/openapi.json with a logged-in token: no 5xx and no
#      response that breaks the documented schema, bounded in examples and time.
# Usage: scripts/ci_checks.sh [bandit|pip-audit|schemathesis]...   (all three by default)
# schemathesis takes SCHEMATHESIS_PORT, _EXAMPLES, _SECONDS and _SEED (20261121 in CI): a
# longer run with another seed looks further for server errors.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
STAGES=("$@")
[ ${#STAGES[@]} -eq 0 ] && STAGES=(bandit pip-audit schemathesis)

stage() {  # stage NAME SECONDS COMMAND...
  local name=$1 limit=$2; shift 2
  echo "=== $name (limit ${limit}s)"
  timeout --kill-after=15 "$limit" "$@"
}

run_bandit() {
  # -ll: medium and high severity. The baseline lists the accepted, explained findings.
  "$BIN/bandit" -q -r tracker -ll -b scripts/bandit-baseline.json
}

run_pip_audit() {
  # PyPI's per-version JSON is the vulnerability service. Where it cannot be reached, the
  # stage says "NOT AUDITED" and passes: CI does not fail for want of a network, nor
  # pretend to have checked. A real finding, or any other failure, fails the stage.
  local report errors status=0
  report=$(mktemp) errors=$(mktemp)
  "$BIN/pip-audit" -r constraints.txt --no-deps --disable-pip --progress-spinner off \
    --timeout 20 --format json --output "$report" 2>"$errors" || status=$?
  # pip-audit says "No known vulnerabilities found" even when it could look none up: the
  # summary below says what was really checked.
  grep -v -e "encouraged to fully hash" -e "pip-compile" -e "No known vulnerabilities found" \
    "$errors" >&2 || true
  "$BIN/python" scripts/pip_audit_summary.py "$report" "$status" "$errors"
}

run_schemathesis() {
  local work port token server status=0
  work=$(mktemp -d /tmp/tracker-schemathesis.XXXXXX)
  port=${SCHEMATHESIS_PORT:-8098}
  export DATABASE_URL="sqlite:///$work/tracker.sqlite3" UPLOAD_FOLDER="$work/uploads"
  export MAIL_OUTBOX_DIR="$work/outbox" TRACKER_SCHEDULER=off
  export SECRET_KEY
  SECRET_KEY=$("$BIN/python" -c 'import secrets; print(secrets.token_hex(32))')
  LOADTEST_SCHEMA=${SCHEMATHESIS_SCHEMA:-migrations} TRACKER_ENV=development \
    "$BIN/python" loadtest/prepare.py >/dev/null
  TRACKER_ENV=production SESSION_COOKIE_SECURE=0 "$BIN/gunicorn" --workers 2 \
    --bind "127.0.0.1:$port" --error-logfile "$work/server.log" wsgi:app &
  server=$!
  trap 'kill "$server" 2>/dev/null || true' RETURN
  for _ in $(seq 1 60); do
    curl -fs -o /dev/null "http://127.0.0.1:$port/api/v1/openapi.json" && break
    sleep 1
  done
  token=$(curl -fs -H 'Content-Type: application/json' \
    -d '{"username": "office", "password": "demo-2026"}' \
    "http://127.0.0.1:$port/api/v1/auth/token" | "$BIN/python" -c 'import json,sys; print(json.load(sys.stdin)["token"])')
  # The token endpoints are left out: revoking the run's own token would end the run.
  # The coverage phase is left out: on Python 3.11 it trips over an internal error of
  # hypothesis ("AST constructor recursion depth mismatch"), not over the API. The health
  # checks on the speed of data generation are off: on a busy 2-core machine they fail
  # for the machine's sake ("data generation is too slow"), not the API's.
  "$BIN/st" run "http://127.0.0.1:$port/api/v1/openapi.json" \
    --header "Authorization: Bearer $token" \
    --checks not_a_server_error,response_schema_conformance \
    --exclude-path-regex '/auth/token' \
    --max-examples "${SCHEMATHESIS_EXAMPLES:-10}" --max-time "${SCHEMATHESIS_SECONDS:-120}" \
    --phases examples,fuzzing,stateful --suppress-health-check too_slow,filter_too_much \
    --request-timeout 20 --workers 2 --seed "${SCHEMATHESIS_SEED:-20261121}" --no-color \
    --report junit --report-dir "$work/report" || status=$?
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  if grep -E "Traceback" "$work/server.log"; then
    echo "the server logged errors ($work/server.log)" >&2
    status=1
  fi
  return $status
}

for name in "${STAGES[@]}"; do
  case $name in
    bandit) stage bandit 150 bash -c "$(declare -f run_bandit); BIN=$BIN; run_bandit" ;;
    pip-audit) stage pip-audit 120 bash -c "$(declare -f run_pip_audit); BIN=$BIN; run_pip_audit" ;;
    schemathesis) stage schemathesis 300 bash -c "$(declare -f run_schemathesis); BIN=$BIN; run_schemathesis" ;;
    *) echo "unknown stage $name" >&2; exit 2 ;;
  esac
done
echo "security checks passed: ${STAGES[*]}"
