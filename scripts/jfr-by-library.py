#!/usr/bin/env python3
"""Splits a bench run's JFR CPU samples by library, per time window, per 1 000 operations.

The bench runs its variants one after another in one JVM, so a recording holds all of them; the
progress lines give each measurement's end time and ops/s, and its window is the `--seconds`
before that. Each sample is charged to the library of its top frame; a JDK top frame (a HashMap,
a String) is charged to the first library below it, shown as `jdk<library`.

    jfr print --events jdk.ExecutionSample --stack-depth 64 bench.jfr > samples.txt
    scripts/jfr-by-library.py samples.txt "limit 10:31:05 10:31:20 2698" "txstep 10:31:23 10:31:38 1991" ...

Each window is "name start end ops_per_second" (times as JFR prints them, the machine's local
time). JFR samples a bounded number of threads per period and only Java frames, so the counts
compare windows with one another; they are not CPU time.
"""
import collections
import sys

LIBRARIES = (
    ("reactor.core", "reactor-core"), ("io.r2dbc.postgresql", "r2dbc-postgresql"),
    ("io.r2dbc.pool", "r2dbc-pool"), ("reactor.pool", "reactor-pool"), ("reactor.netty", "reactor-netty"),
    ("io.netty", "netty"), ("dev.txstep.bench", "bench harness"), ("dev.txstep", "txstep"),
    ("com.fasterxml", "jackson"), ("io.micrometer", "micrometer"),
)


def seconds(text):
    h, m, s = text.split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)


def library(frame):
    name = frame.split("(")[0]
    for prefix, lib in LIBRARIES:
        if name.startswith(prefix):
            return lib
    return None


def charge(stack):
    top = library(stack[0])
    if top:
        return top
    for frame in stack[1:]:
        lib = library(frame)
        if lib:
            return "jdk<" + lib
    return "jdk/other"


def main(path, specs):
    windows = []
    for spec in specs:
        name, start, end, ops = spec.split()
        windows.append((name, seconds(start), seconds(end), float(ops) * (seconds(end) - seconds(start))))
    counts = {w[0]: collections.Counter() for w in windows}
    when, stack, in_stack = None, [], False

    def flush():
        if when is None or not stack:
            return
        for name, start, end, _ in windows:
            if start <= when < end:
                counts[name][charge(stack)] += 1

    with open(path) as lines:
        for line in lines:
            text = line.strip()
            if text.startswith("jdk.ExecutionSample"):
                flush()
                when, stack, in_stack = None, [], False
            elif text.startswith("startTime ="):
                when = seconds(text.split("=")[1].split()[0])
            elif text.startswith("stackTrace"):
                in_stack = True
            elif text == "]":
                in_stack = False
            elif in_stack and text and text != "...":
                stack.append(text)
    flush()
    names = [w[0] for w in windows]
    per_op = {w[0]: w[3] / 1000 for w in windows}
    keys = set().union(*(counts[n].keys() for n in names))
    print("%-20s %s" % ("samples / 1000 ops", " ".join("%9s" % n for n in names)))
    print("%-20s %s" % ("all", " ".join("%9.2f" % (sum(counts[n].values()) / per_op[n]) for n in names)))
    for key in sorted(keys, key=lambda k: -sum(counts[n][k] / per_op[n] for n in names)):
        print("%-20s %s" % (key, " ".join("%9.2f" % (counts[n][key] / per_op[n]) for n in names)))


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2:])
