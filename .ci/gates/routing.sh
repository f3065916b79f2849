#!/usr/bin/env bash
# Routing gate: throughput and correctness of route/deliver on synthetic data (SQLite and,
# when reachable, PostgreSQL), then end-to-end publish -> notification latency through
# `listening serve` (bench/e2e.py; target one polling interval + 60 s). Needs no ../shared.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY="${PYTHON:-.venv/bin/python}"
MIN_ROUTE_PER_S="${MIN_ROUTE_PER_S:-100}"
MIN_NOTIFY_PER_S="${MIN_NOTIFY_PER_S:-50}"

check() {  # $1 = last JSON line of bench/route.py
  GATE_JSON="$1" "$PY" - "$MIN_ROUTE_PER_S" "$MIN_NOTIFY_PER_S" <<'PYEOF'
import json
import os
import sys

r = json.loads(os.environ["GATE_JSON"])
lo_route, lo_notify = float(sys.argv[1]), float(sys.argv[2])
print(
    f"routing gate [{r['backend']}]: {r['route_docs_per_s']} docs/s (min {lo_route:g}), "
    f"{r['notifications_per_s']} notifications/s (min {lo_notify:g}), "
    f"second run routed {r['second_run_routed']}, sent {r['notifications_sent']} received {r['received']}"
)
ok = (
    r["route_docs_per_s"] >= lo_route
    and r["notifications_per_s"] >= lo_notify
    and r["second_run_routed"] == 0
    and r["notifications_sent"] == r["received"]
)
sys.exit(0 if ok else 1)
PYEOF
}

out=$("$PY" bench/route.py --docs 2000 --backend sqlite)
check "$(echo "$out" | tail -n 1)"
if "$PY" -c 'import os, sqlalchemy as sa; sa.create_engine(os.environ.get("LISTENING_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"), connect_args={"connect_timeout": 3}).connect().close()' 2>/dev/null; then
  out=$("$PY" bench/route.py --docs 2000 --backend postgresql)
  check "$(echo "$out" | tail -n 1)"
else
  echo "routing gate: PostgreSQL unreachable, PostgreSQL throughput skipped"
fi
"$PY" bench/e2e.py --items 2
