#!/usr/bin/env bash
# Drive the mock server binary with schemathesis (property-based API fuzzer,
# from PyPI) over the OpenAPI description in ../shared/openapi, once with
# admin identity headers and once as a member, with the check
# `not_a_server_error`; then print, per identity, how many answers there
# were, how many were 5xx, and the share that were not 401/403.
#
# Usage: scripts/schemathesis.sh [SECONDS_PER_RUN]   (default 120)
# Env:   OPENAPI=path/to/image-v2.yaml  SCHEMATHESIS_VENV=dir  SEED=n
# Needs python3 with venv; installs schemathesis into target-py/ on first use.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SECS="${1:-120}"
SPEC="${OPENAPI:-$ROOT/../shared/openapi/image-v2.yaml}"
VENV="${SCHEMATHESIS_VENV:-$ROOT/target-py}"
SEED="${SEED:-20261122}"
OUT="${OUT:-$ROOT/target-py/schemathesis-report}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"

if [ ! -x "$VENV/bin/schemathesis" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q schemathesis
fi
(cd "$ROOT" && cargo build -q -p glance-mock-server --bin glance-mock-server)
mkdir -p "$OUT"
# A copy, so that a build elsewhere in a shared target dir cannot swap it.
cp "$CARGO_TARGET_DIR/debug/glance-mock-server" "$OUT/glance-mock-server"
LOG="$OUT/server.log"
"$OUT/glance-mock-server" --bind 127.0.0.1:0 >"$LOG" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; rm -f "$OUT/glance-mock-server"' EXIT
URL=""
for _ in $(seq 1 50); do
  URL="$(sed -n 's/^listening on //p' "$LOG")"
  [ -n "$URL" ] && break
  sleep 0.2
done
[ -n "$URL" ] || { echo "the mock did not start: $(cat "$LOG")" >&2; exit 1; }

run() {
  local who="$1" roles="$2" project="$3"
  set +e
  SCHEMATHESIS_HOOKS="$ROOT/scripts/schemathesis_hooks.py" "$VENV/bin/schemathesis" run "$SPEC" --url "$URL" \
    --checks not_a_server_error \
    -H "X-Auth-Token: fuzz" -H "X-Identity-Status: Confirmed" \
    -H "X-Roles: $roles" -H "X-Project-Id: $project" -H "X-User-Id: $project-user" \
    --max-time "$SECS" --seed "$SEED" --workers 2 \
    --report har --report-har-path "$OUT/$who.har" >"$OUT/$who.txt" 2>&1
  local rc=$?
  set -e
  tail -n 25 "$OUT/$who.txt"
  python3 - "$OUT/$who.har" "$who" "$rc" <<'PY'
import collections, json, sys
har, who, rc = sys.argv[1], sys.argv[2], sys.argv[3]
entries = json.load(open(har))["log"]["entries"]
statuses = collections.Counter(e["response"]["status"] for e in entries)
total = sum(statuses.values())
server_errors = sum(n for s, n in statuses.items() if s >= 500)
past_auth = sum(n for s, n in statuses.items() if s not in (401, 403))
share = 100.0 * past_auth / total if total else 0.0
print(f"schemathesis as {who}: {total} answers, {server_errors} >= 500, "
      f"{past_auth} ({share:.1f}%) not 401/403; exit {rc}; by status {dict(sorted(statuses.items()))}")
PY
}

run admin "admin,member,reader" "fuzz-admin-project"
run member "member,reader" "fuzz-member-project"
