#!/usr/bin/env bash
# Try the real Odoo clients of ../shared/clients (erppeek, odooly 2.6 and
# 2.5.8, odoo-client-lib with xmlrpc, jsonrpc and json2) against
# `etlhost odoo-sim`, by hand or from a bench: it builds etlhost, starts a
# 17.0 and a 19.0 simulator on free ports, runs tools/shared_clients.py once
# per client with PYTHONPATH pointing into the client's folder, prints what
# each did and the simulators' stats, and stops the simulators it started.
# The clients are not part of the project: `make test` never needs them.
#
#   odoo/odoosim/tools/try_shared_clients.sh [client...]
#
# SHARED_CLIENTS (default: <repo>/../shared/clients) is where the clients
# are; PYTHON (default /usr/bin/python3) needs httpx (python3-httpx) for
# odooly 2.6 and odoo-client-lib.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
shared="${SHARED_CLIENTS:-$repo/../shared/clients}"
py="${PYTHON:-/usr/bin/python3}"
clients=("$@")
[ ${#clients[@]} -gt 0 ] || clients=(erppeek odooly odooly-2.5.8 odoo-client-lib)

[ -d "$shared" ] || { echo "no clients in $shared (set SHARED_CLIENTS)" >&2; exit 2; }
"$py" -c 'import httpx' 2>/dev/null || echo "warning: $py lacks httpx (apt-get install -y python3-httpx)" >&2

tmp="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT

(cd "$repo" && go build -o "$tmp/etlhost" ./cmd/etlhost) || { echo "cannot build etlhost" >&2; exit 2; }

free_port() { "$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# start_sim VERSION VAR starts a simulator in this shell (so that cleanup
# knows its pid) and sets VAR to its URL once it answers.
start_sim() {
  local port; port="$(free_port)"
  "$tmp/etlhost" odoo-sim --addr "127.0.0.1:$port" --moves 500 --seed 1 --odoo-version "$1" \
    >"$tmp/sim-$1.out" 2>"$tmp/sim-$1.err" &
  pids+=($!)
  for _ in $(seq 100); do
    if curl -fs "http://127.0.0.1:$port/sim/stats" >/dev/null 2>&1; then
      printf -v "$2" '%s' "http://127.0.0.1:$port"
      return
    fi
    sleep 0.1
  done
  echo "odoo-sim $1 did not start: $(cat "$tmp/sim-$1.err")" >&2
  exit 2
}
start_sim 17.0 url17
start_sim 19.0 url19
echo "odoo-sim 17.0 on $url17, 19.0 on $url19"

status=0
for c in "${clients[@]}"; do
  echo
  echo "=== $c ($shared/$c)"
  PYTHONPATH="$shared/$c" PYTHONDONTWRITEBYTECODE=1 "$py" "$here/shared_clients.py" "$c" "$url17" "$url19" || status=1
done

echo
for u in "$url17" "$url19"; do
  echo "stats of $u: $(curl -fs "$u/sim/stats" | "$py" -c 'import json,sys; s=json.load(sys.stdin); print(s["calls"], "calls,", s["examined"], "records examined,", s["read"], "read")')"
done
exit $status
