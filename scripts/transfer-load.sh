#!/usr/bin/env bash
# Drives the shipped transfer example (two accounts, default pool) on PostgreSQL at 127.0.0.1:5432
# with concurrent clients: each takes a new Idempotency-Key per transfer and sends it 3 times;
# then checks the invariants from SQL (balance conserved; ledger transfers = recorded outputs =
# keys answered 2xx; one body per key; no transfer moved twice; no connection left busy;
# deadlocks). The service runs in its own database (created and dropped), so PostgreSQL's deadlock
# count is the service's alone. Exit status 0 when every invariant holds.
#
#   scripts/transfer-load.sh                       # 32 clients, 60 s
#   scripts/transfer-load.sh -d 120 -c 32 -k 5     # 120 s with 5 SIGKILLs of the service (chaos)
#
# Needs java, mvn, python3 and psql (user postgres, trust). Builds the reactor first (no install).
set -euo pipefail
cd "$(dirname "$0")/.."

clients=32 duration=60 kills=0 sends=3 port=18080 keep=()
while getopts "c:d:k:s:p:Kh" opt; do
  case "$opt" in
    c) clients="$OPTARG" ;;
    d) duration="$OPTARG" ;;
    k) kills="$OPTARG" ;;
    s) sends="$OPTARG" ;;
    p) port="$OPTARG" ;;
    K) keep=(--keep) ;;
    *) sed -n '2,13p' "$0"; exit 2 ;;
  esac
done

cp_file=examples/target/load-classpath.txt
mvn -B -q -DskipTests package dependency:build-classpath -pl examples -am \
  -Dmdep.outputFile="$PWD/$cp_file" -Dmdep.includeScope=runtime >/dev/null
classpath="examples/target/classes:$(cat "$cp_file")"
exec python3 scripts/transfer-load.py --classpath "$classpath" --clients "$clients" --duration "$duration" \
  --kills "$kills" --sends "$sends" --port "$port" "${keep[@]}"
