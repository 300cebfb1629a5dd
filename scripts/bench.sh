#!/usr/bin/env bash
# Runs the txstep benchmark (see BENCHMARKS.md): builds the benchmarks module (Maven profile
# "bench", never installed), installs the Node.js bench's packages when needed, checks that
# PostgreSQL answers, and runs the harness. Arguments go to the harness (--help lists them);
# --quick is a smoke run of a few minutes.
#
#   scripts/bench.sh                 # the full grid (about 45 minutes)
#   scripts/bench.sh --quick         # c=16 only, 2 rounds of 2 s
#   scripts/bench.sh --mode memory   # one workflow streaming 1 000 000 steps
#   scripts/bench.sh --mode instances [--concurrency 16] [--rounds 3] [--seconds 5]
#                                    # r2dbc-baseline and txstep-first from 1, 2 and 4 JVMs at
#                                    # once, same total concurrency (each JVM gets concurrency/N),
#                                    # summed over the JVMs (needs jq)
#   scripts/bench.sh --steps-per-workflow 1                       # one-step workflows
#   scripts/bench.sh --output-bytes 16,4096,16384,262144 --variants limit,limit-bound,txstep-first
#
# Environment: BENCH_JVM_OPTS (the harness JVM's heap and collector; default below), JAVA_OPTS
# (extra JVM options, after BENCH_JVM_OPTS, e.g. -XX:StartFlightRecording=filename=bench.jfr),
# BENCH_SKIP_BUILD=1 to reuse the last build.
set -euo pipefail
cd "$(dirname "$0")/.."

die() { echo "bench.sh: $*" >&2; exit 1; }

# The options that say where PostgreSQL and node are, and whether the Node variant runs.
pg_host=127.0.0.1 pg_port=5432 node=node variants="" help=""
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[i]}" in
    --pg-host) pg_host="${args[i + 1]:-}" ;;
    --pg-port) pg_port="${args[i + 1]:-}" ;;
    --node) node="${args[i + 1]:-}" ;;
    --variants) variants="${args[i + 1]:-}" ;;
    --help) help=1 ;;
  esac
done
wants_node=1
if [[ -n "$variants" && ",$variants," != *",dbos-ts,"* ]]; then wants_node=""; fi
if [[ -n "$help" || " $* " == *" --mode instances "* ]]; then wants_node=""; fi

command -v java >/dev/null || die "java not found: install a JDK 17 or later"
command -v mvn >/dev/null || die "mvn not found: install Maven 3.8 or later"

if [[ -z "$help" ]]; then
  if ! (exec 3<>"/dev/tcp/$pg_host/$pg_port") 2>/dev/null; then
    die "PostgreSQL is not listening on $pg_host:$pg_port; start it (e.g. pg_ctlcluster --skip-systemctl-redirect 15 main start) or pass --pg-host/--pg-port"
  fi
fi

if [[ -n "$wants_node" ]]; then
  command -v "$node" >/dev/null || die "node ('$node') not found: install Node.js 20, pass --node PATH, or leave out the dbos-ts variant (--variants ...)"
  command -v npm >/dev/null || die "npm not found: it comes with Node.js 20"
  if [[ ! -d benchmarks/node/node_modules/@dbos-inc/postgres-datasource ]]; then
    echo "bench.sh: installing the Node bench's packages (npm ci)" >&2
    (cd benchmarks/node && npm ci --no-audit --no-fund >&2)
  fi
fi

if [[ -z "${BENCH_SKIP_BUILD:-}" ]]; then
  echo "bench.sh: building (mvn -Pbench -pl benchmarks -am package)" >&2
  mvn -B -q -Pbench -pl benchmarks -am package -DskipTests >&2
fi

commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)

# A fixed heap and an explicit collector, so a run does not depend on the machine's RAM (the
# default heap is a quarter of it, starting at 1/64) and every variant runs on the same heap from
# the start. Measured in BENCHMARKS.md: GC took at most 3 % of a window either way; the warm-up
# passes (JIT) are what mattered.
jvm_opts=${BENCH_JVM_OPTS:--Xms1g -Xmx1g -XX:+UseG1GC -XX:+AlwaysPreTouch}

harness() {
  # shellcheck disable=SC2086 # the options are lists
  java -Djava.awt.headless=true -Dbench.commit="$commit" $jvm_opts ${JAVA_OPTS:-} \
    -cp "benchmarks/target/classes:benchmarks/target/lib/*" dev.txstep.bench.Bench "$@"
}

# --mode instances: the first-execution workload (and plain R2DBC, its baseline) from 1, 2 and 4
# application JVMs against the same PostgreSQL, started together, at the same total concurrency;
# each JVM runs the harness's load mode with concurrency/N operations in flight and a pool of that
# size, measuring the baseline and txstep in turn. The table sums the JVMs' median throughputs per
# variant and count, with txstep's ratio to the baseline, and repeats the counts in the order
# 1 2 4 4 2 1 (whatever else runs on the machine weighs on both halves alike).
if [[ " $* " == *" --mode instances "* ]]; then
  command -v jq >/dev/null || die "--mode instances reads the harness's results.json with jq: apt-get install jq"
  total=16 rounds=3 seconds=5 isolation=READ_COMMITTED
  for ((i = 0; i < ${#args[@]}; i++)); do
    case "${args[i]}" in
      --concurrency) total="${args[i + 1]}" ;;
      --rounds) rounds="${args[i + 1]}" ;;
      --seconds) seconds="${args[i + 1]}" ;;
      --isolation) isolation="${args[i + 1]}" ;;
    esac
  done
  out="benchmarks/results/instances-$(date +%Y%m%d-%H%M%S)"
  mkdir -p "$out"
  echo "bench.sh: txstep-first, total concurrency $total, $isolation, $rounds rounds of $seconds s per JVM; results in $out" >&2
  printf '| JVMs | concurrency per JVM | plain R2DBC tx/s (sum) | txstep steps/s (sum) | ratio | txstep p50 ms (worst JVM) |\n|---|---|---|---|---|---|\n' > "$out/table.md"
  for n in 1 2 4 4 2 1; do
    per=$((total / n))
    (( per >= 1 )) || die "--concurrency $total is less than $n"
    JAVA_OPTS="${JAVA_OPTS:-} -Dbench.setupOnly=true" harness --mode load --variants txstep-first \
      --pg-host "$pg_host" --pg-port "$pg_port" > "$out/setup-n$n.log" 2>&1 || die "setting up failed (see $out/setup-n$n.log)"
    pids=()
    for ((k = 1; k <= n; k++)); do
      JAVA_OPTS="${JAVA_OPTS:-} -Dbench.instance=$k" harness --mode load --variants r2dbc-baseline,txstep-first --concurrency "$per" --isolation "$isolation" \
        --rounds "$rounds" --seconds "$seconds" --warmup 1 --pg-host "$pg_host" --pg-port "$pg_port" \
        --out "$out/n$n-$k-$RANDOM" > "$out/n$n-$k.log" 2>&1 &
      pids+=($!)
    done
    for pid in "${pids[@]}"; do wait "$pid" || die "a harness JVM failed (see $out/n$n-*.log)"; done
    files=$(find "$out" -path "$out/n$n-*" -name results.json -newer "$out/table.md")
    base=$(jq -s '[.[].summary[] | select(.variant == "r2dbc-baseline") | .opsPerSec] | add | floor' $files)
    sum=$(jq -s '[.[].summary[] | select(.variant == "txstep-first") | .opsPerSec] | add | floor' $files)
    p50=$(jq -s '[.[].summary[] | select(.variant == "txstep-first") | .p50Ms] | max' $files)
    ratio=$(jq -n "$sum / $base * 100 | floor / 100")
    echo "| $n | $per | $base | $sum | $ratio | $p50 |" | tee -a "$out/table.md"
    touch "$out/table.md"
  done
  exit 0
fi

# shellcheck disable=SC2086 # the options are lists
exec java -Djava.awt.headless=true -Dbench.commit="$commit" $jvm_opts ${JAVA_OPTS:-} \
  -cp "benchmarks/target/classes:benchmarks/target/lib/*" dev.txstep.bench.Bench "$@"
