#!/usr/bin/env bash
# Security checks for CI, each stage with its own time limit:
#   1. bandit: no medium or high finding beyond those explained in
#      scripts/bandit-baseline.json (see docs/security.md, "Static analysis");
#   2. pip-audit on constraints.txt: no known vulnerability in a pinned dependency;
#   3. schemathesis against /api/v1/openapi.json with a logged-in token: no 5xx and no
#      response that breaks the documented schema, bounded in examples and time.
# Usage: scripts/ci_checks.sh [bandit|pip-audit|schemathesis]...   (all three by default)
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
  local report
  report=$(mktemp)
  local status=0
  "$BIN/pip-audit" -r constraints.txt --no-deps --disable-pip --progress-spinner off \
    --format json --output "$report" || status=$?
  "$BIN/python" - "$report" "$status" <<'EOF'
import json, sys
report, status = sys.argv[1], int(sys.argv[2])
try:
    data = json.load(open(report))
except ValueError:
    sys.exit(f"pip-audit produced no report (exit status {status})")
deps = data.get("dependencies", [])
vulnerable = [d for d in deps if d.get("vulns")]
audited = [d for d in deps if "skip_reason" not in d]
for dep in vulnerable:
    for vuln in dep["vulns"]:
        print(f"VULNERABLE {dep['name']} {dep['version']}: {vuln['id']} "
              f"(fixed in {', '.join(vuln.get('fix_versions') or ['?'])})")
if vulnerable:
    sys.exit(1)
if not audited:
    # The vulnerability service could not be reached: say so loudly, do not pretend.
    print(f"pip-audit: NOT AUDITED - no vulnerability data could be fetched for any of the "
          f"{len(deps)} pinned packages (no access to the PyPI vulnerability service)")
    sys.exit(0)
print(f"pip-audit: {len(audited)} packages audited, no known vulnerability "
      f"({len(deps) - len(audited)} could not be looked up)")
EOF
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
  # hypothesis ("AST constructor recursion depth mismatch"), not over the API.
  "$BIN/st" run "http://127.0.0.1:$port/api/v1/openapi.json" \
    --header "Authorization: Bearer $token" \
    --checks not_a_server_error,response_schema_conformance \
    --exclude-path-regex '/auth/token' \
    --max-examples "${SCHEMATHESIS_EXAMPLES:-10}" --max-time "${SCHEMATHESIS_SECONDS:-300}" \
    --phases examples,fuzzing,stateful \
    --request-timeout 20 --workers 2 --seed 20261121 --no-color \
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
    bandit) stage bandit 300 bash -c "$(declare -f run_bandit); BIN=$BIN; run_bandit" ;;
    pip-audit) stage pip-audit 300 bash -c "$(declare -f run_pip_audit); BIN=$BIN; run_pip_audit" ;;
    schemathesis) stage schemathesis 600 bash -c "$(declare -f run_schemathesis); BIN=$BIN; run_schemathesis" ;;
    *) echo "unknown stage $name" >&2; exit 2 ;;
  esac
done
echo "security checks passed: ${STAGES[*]}"
