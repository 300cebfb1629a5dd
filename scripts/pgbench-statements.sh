#!/usr/bin/env bash
# What txstep's statements cost PostgreSQL without any Java client: pgbench runs the limit's
# transaction (benchmarks/pgbench/literal-insert.sql) and txstep's (prepared-insert.sql)
# alternately, PAIRS times at each client count, in a database of its own that it drops after.
# Prints each run's tps and the pair's ratio, prepared ÷ literal. See BENCHMARKS.md.
#
#   scripts/pgbench-statements.sh [clients...]      # default: 64 16; PAIRS=3 SECONDS_PER_RUN=10
set -euo pipefail
cd "$(dirname "$0")/.."
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"

host=${PGHOST:-127.0.0.1} user=${PGUSER:-postgres} db=bench_pgbench
pairs=${PAIRS:-3} seconds=${SECONDS_PER_RUN:-10}
clients=("$@")
(( ${#clients[@]} )) || clients=(64 16)
command -v pgbench >/dev/null || { echo "pgbench-statements.sh: pgbench not found (postgresql-client)" >&2; exit 1; }

psql -h "$host" -U "$user" -d postgres -qXc "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
trap 'psql -h "$host" -U "$user" -d postgres -qXc "DROP DATABASE IF EXISTS $db"' EXIT
psql -h "$host" -U "$user" -d "$db" -qX -v ON_ERROR_STOP=1 -f benchmarks/pgbench/setup.sql

tps() {
  pgbench -h "$host" -U "$user" -n -c "$1" -j 2 -T "$seconds" -f "benchmarks/pgbench/$2.sql" "$db" 2>&1 \
    | sed -n 's/^tps = \([0-9.]*\).*/\1/p'
}
for c in "${clients[@]}"; do
  for ((i = 1; i <= pairs; i++)); do
    literal=$(tps "$c" literal-insert)
    prepared=$(tps "$c" prepared-insert)
    awk -v c="$c" -v l="$literal" -v p="$prepared" \
      'BEGIN { printf "c=%s literal %.0f tps, prepared %.0f tps, prepared / literal %.2f\n", c, l, p, p / l }'
  done
done
