#!/usr/bin/env bash
# Runs scripts/bench.sh with the harness JVM and the local PostgreSQL server on separate CPUs:
# the JVM on CPU 0, every PostgreSQL process (and so every backend forked during the run) on the
# last CPU. Afterwards each PostgreSQL process that was there before gets back the affinity it had
# (a connection some other client opened during the run keeps the last CPU until it ends).
# Arguments go to bench.sh unchanged.
#
#   scripts/bench-pinned.sh --variants limit,txstep-first --steps-per-workflow 1 --concurrency 16,64
#
# Why: on a 2-core machine shared by the client and 64 backends, whatever CPU the client spends
# also slows the server down (the two preempt each other on both cores), so a client-side cost
# shows up twice. Pinned, each side keeps its own core, as on separate machines; results.json
# records both affinities (jvmCpus, postgresCpus).
#
# Needs: a PostgreSQL server on this machine (its data directory readable, for postmaster.pid),
# taskset (util-linux), and the right to change the server's affinity (root, or its user).
set -euo pipefail
cd "$(dirname "$0")/.."

die() { echo "bench-pinned.sh: $*" >&2; exit 1; }

command -v taskset >/dev/null || die "taskset not found (util-linux)"
cpus=$(nproc --all)
(( cpus >= 2 )) || die "needs at least 2 CPUs, found $cpus"
last=$((cpus - 1))

pg_host=127.0.0.1 pg_port=5432 pg_user=postgres
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[i]}" in
    --pg-host) pg_host="${args[i + 1]:-}" ;;
    --pg-port) pg_port="${args[i + 1]:-}" ;;
    --pg-user) pg_user="${args[i + 1]:-}" ;;
  esac
done

data_dir=$(psql -h "$pg_host" -p "$pg_port" -U "$pg_user" -d postgres -XAtc "SHOW data_directory") \
  || die "cannot ask PostgreSQL at $pg_host:$pg_port for its data directory"
[[ -r "$data_dir/postmaster.pid" ]] || die "cannot read $data_dir/postmaster.pid: is the server on this machine?"
postmaster=$(head -1 "$data_dir/postmaster.pid")

# The postmaster and its children (background processes and backends open now) with their affinity.
declare -A saved
for pid in "$postmaster" $(pgrep -P "$postmaster" || true); do
  saved[$pid]=$(taskset -pc "$pid" | sed 's/.*: //')
done
restore() {
  for pid in "${!saved[@]}"; do
    taskset -pc "${saved[$pid]}" "$pid" >/dev/null 2>&1 || true
  done
}
trap restore EXIT
for pid in "${!saved[@]}"; do
  taskset -pc "$last" "$pid" >/dev/null || die "cannot pin PostgreSQL process $pid to CPU $last"
done
echo "bench-pinned.sh: PostgreSQL (postmaster $postmaster) on CPU $last, the harness on CPU 0" >&2

taskset -c 0 scripts/bench.sh "$@"
