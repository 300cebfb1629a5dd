#!/usr/bin/env python3
"""Paired per-round ratios of two variants in a benchmark run (BENCHMARKS.md, "Reading the numbers").

    scripts/paired-ratios.py benchmarks/results/<run>/results.json txstep-first limit [more pairs as num/den ...]

For every setting (isolation, concurrency, output size) the run measured both variants in, and for
each round, divides the numerator's figure by the denominator's in the same round: rounds run the
variants back to back, so a pair shares the machine's state of that minute. Prints, per setting and
metric, the median of the rounds' ratios and the standard error of their log-mean (the standard
deviation of the logs over the square root of the number of rounds, read as a relative error).

Metrics: ops/s, the harness JVM's CPU per operation, the benchmark's own PostgreSQL backends' CPU
per operation, bytes allocated per operation, and the JVM's context switches per operation.
"""
import json
import math
import statistics
import sys

METRICS = [
    ("ops/s", "opsPerSec"),
    ("JVM CPU/op", "jvmCpuMicrosPerOp"),
    ("own backends CPU/op", "ownBackendCpuMicrosPerOp"),
    ("alloc/op", "allocatedBytesPerOp"),
    ("switches/op", "jvmContextSwitchesPerOp"),
]


def ratios(samples, numerator, denominator, setting, field):
    by_round = {}
    for s in samples:
        if (s["isolation"], s["concurrency"], s["outputBytes"]) != setting or s["variant"] not in (numerator, denominator):
            continue
        value = s.get(field)
        if value is None or s.get("errors", 0) and s["opsPerSec"] == 0:
            continue
        by_round.setdefault(s["round"], {})[s["variant"]] = value
    pairs = [r[numerator] / r[denominator] for r in by_round.values()
             if numerator in r and denominator in r and r[denominator] > 0 and r[numerator] > 0]
    return pairs


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    with open(argv[0]) as f:
        run = json.load(f)
    pairs = [(argv[1], argv[2])] + [tuple(p.split("/", 1)) for p in argv[3:]]
    samples = run["samples"]
    settings = sorted({(s["isolation"], s["concurrency"], s["outputBytes"]) for s in samples},
                      key=lambda k: (k[0], k[1], k[2]))
    print(f"run {run['runId']} (commit {run['environment'].get('commit', '?')})")
    for numerator, denominator in pairs:
        print(f"\n{numerator} ÷ {denominator}: median of per-round ratios (log-mean SE, rounds)")
        print("| setting | " + " | ".join(name for name, _ in METRICS) + " |")
        print("|---|" + "--:|" * len(METRICS))
        for setting in settings:
            cells = []
            for _, field in METRICS:
                r = ratios(samples, numerator, denominator, setting, field)
                if not r:
                    cells.append("–")
                    continue
                logs = [math.log(x) for x in r]
                se = statistics.stdev(logs) / math.sqrt(len(logs)) if len(logs) > 1 else float("nan")
                cells.append(f"{statistics.median(r):.2f} (±{se:.2f}, {len(r)})")
            if all(c == "–" for c in cells):
                continue
            label = f"{'RC' if setting[0] == 'READ_COMMITTED' else 'SER'} c={setting[1]} out={setting[2]}"
            print(f"| {label} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main(sys.argv[1:])
