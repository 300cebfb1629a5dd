#!/usr/bin/env python3
"""Drives the shipped transfer example under contention and checks its invariants from SQL.

Started by scripts/transfer-load.sh (which builds the example and gives the class path); see there
for the options. Standard library only. Load goes only to 127.0.0.1.

Each of --clients workers loops until --duration ends: a new Idempotency-Key, a transfer of 1..10
cents between the two shipped accounts (alice and bob) in a random direction, sent --sends times
with that key. A send that fails without an answer (connection refused or reset: the server was
killed) or with 503 is sent again with the same key until it gets an answer, as a real client
would; each answer counts once in the figures. Afterwards, from PostgreSQL: total balance
conserved; ledger transfers = recorded transfer outputs = keys answered 2xx; every 2xx answer of
a key is the same body and names the recorded transfer; each transfer has exactly its two ledger
rows; no connection of the service is left busy; the deadlocks counted by PostgreSQL for the
run's own database.
"""
import argparse
import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import time
import uuid

PSQL_BASE = ["psql", "-h", "127.0.0.1", "-p", "5432", "-U", "postgres", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"]


def psql(db, sql):
    return subprocess.run(PSQL_BASE + ["-d", db, "-c", sql], check=True, capture_output=True, text=True).stdout.strip()


class Server:
    """The example as a child process: java -cp ... TransferApplication."""

    def __init__(self, classpath, port, url, schema, log):
        self.cmd = ["java", "-XX:+UseParallelGC", "-cp", classpath, "dev.txstep.examples.transfer.TransferApplication",
                    f"--server.port={port}", f"--transfer.url={url}", f"--transfer.schema={schema}"]
        self.port, self.log, self.proc = port, log, None

    async def start(self):
        started = time.monotonic()
        self.proc = subprocess.Popen(self.cmd, stdout=self.log, stderr=subprocess.STDOUT)
        while time.monotonic() - started < 120:
            if self.proc.poll() is not None:
                sys.exit(f"transfer-load: the service exited with {self.proc.returncode}; see its log")
            try:
                status, _, _ = await request(self.port, "GET", "/accounts/alice", None, {}, timeout=2)
                if status == 200:
                    return time.monotonic() - started
            except (OSError, asyncio.TimeoutError, ConnectionError, ValueError):
                pass
            await asyncio.sleep(0.1)
        sys.exit("transfer-load: the service did not answer within 120 s")

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()


async def request(port, method, path, body, headers, timeout=30, conn=None):
    """One HTTP/1.1 request on a fresh connection (or conn = (reader, writer), kept alive)."""
    own = conn is None
    if own:
        conn = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), timeout)
    reader, writer = conn
    data = body.encode() if body is not None else b""
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: {len(data)}\r\n"
    for k, v in headers.items():
        head += f"{k}: {v}\r\n"
    writer.write(head.encode() + b"\r\n" + data)
    await writer.drain()

    async def read():
        status_line = await reader.readline()
        if not status_line:
            raise ConnectionError("closed before an answer")
        status = int(status_line.split()[1])
        hdrs = {}
        while True:
            line = await reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            k, _, v = line.decode("latin-1").partition(":")
            hdrs[k.strip().lower()] = v.strip()
        if "content-length" in hdrs:
            payload = await reader.readexactly(int(hdrs["content-length"]))
        elif hdrs.get("transfer-encoding", "").lower() == "chunked":
            payload = b""
            while True:
                size = int((await reader.readline()).strip(), 16)
                chunk = await reader.readexactly(size + 2)
                if size == 0:
                    break
                payload += chunk[:-2]
        else:
            payload = b""
        return status, hdrs, payload.decode()

    try:
        return await asyncio.wait_for(read(), timeout)
    finally:
        if own:
            writer.close()


class Stats:
    def __init__(self):
        self.latencies = []        # seconds, per answered send
        self.statuses = {}         # status -> count
        self.bodies = {}           # key -> set of 2xx bodies
        self.unanswered = 0        # sends that got no answer and were sent again
        self.resent_503 = 0


async def worker(args, stats, stop_at, port_ref):
    conn = None
    while time.monotonic() < stop_at:
        key = str(uuid.uuid4())
        frm, to = random.choice([("alice", "bob"), ("bob", "alice")])
        body = json.dumps({"from": frm, "to": to, "amount": random.randint(1, 10)})
        headers = {"Idempotency-Key": key, "Content-Type": "application/json"}
        for _ in range(args.sends):
            while True:  # until this send gets a final answer
                try:
                    if conn is None:
                        conn = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port_ref[0]), 5)
                    t0 = time.monotonic()
                    status, hdrs, text = await request(port_ref[0], "POST", "/transfers", body, headers, conn=conn)
                    elapsed = time.monotonic() - t0
                except (OSError, asyncio.TimeoutError, ConnectionError, asyncio.IncompleteReadError, ValueError):
                    stats.unanswered += 1
                    if conn is not None:
                        conn[1].close()
                    conn = None
                    await asyncio.sleep(0.2)
                    continue
                if hdrs.get("connection", "").lower() == "close":
                    conn[1].close()
                    conn = None
                stats.latencies.append(elapsed)
                stats.statuses[status] = stats.statuses.get(status, 0) + 1
                if status == 503:
                    stats.resent_503 += 1
                    await asyncio.sleep(float(hdrs.get("retry-after", "1")))
                    continue
                if 200 <= status < 300:
                    stats.bodies.setdefault(key, set()).add(text)
                break
    if conn is not None:
        conn[1].close()


def pct(sorted_values, p):
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(round(p / 100 * (len(sorted_values) - 1))))]


def check(db, schema, stats, app_name, opening_total):
    q = lambda sql: psql(db, sql)
    s = f'"{schema}"'
    failures = []
    total = int(q(f"SELECT SUM(balance) FROM {s}.accounts"))
    ledger = int(q(f"SELECT COUNT(DISTINCT transfer_id) FROM {s}.ledger"))
    recorded = int(q(f"SELECT COUNT(*) FROM {s}.datasource_outputs WHERE step_name = 'transfer' AND error IS NULL"))
    keys_2xx = len(stats.bodies)
    bad_pairs = int(q(f"SELECT COUNT(*) FROM (SELECT transfer_id FROM {s}.ledger GROUP BY transfer_id"
                      f" HAVING COUNT(*) <> 2 OR SUM(amount) <> 0) t"))
    # Every ledger transfer is the output recorded under exactly one key.
    orphans = int(q(f"""SELECT COUNT(*) FROM (SELECT DISTINCT transfer_id FROM {s}.ledger) l
        LEFT JOIN (SELECT substring(output from '"id":"([0-9a-f-]{{36}})"') AS id, COUNT(*) AS n
                   FROM {s}.datasource_outputs WHERE step_name = 'transfer' AND error IS NULL GROUP BY 1) o
        ON o.id = l.transfer_id WHERE o.n IS DISTINCT FROM 1"""))
    recorded_ids = dict(line.split("|", 1) for line in q(
        f"""SELECT substring(workflow_id from 17), substring(output from '"id":"([0-9a-f-]{{36}})"')
            FROM {s}.datasource_outputs WHERE step_name = 'transfer' AND error IS NULL""").splitlines() if line)
    several_bodies = sum(1 for b in stats.bodies.values() if len(b) != 1)
    wrong_body = sum(1 for k, b in stats.bodies.items()
                     if len(b) == 1 and recorded_ids.get(k) != json.loads(next(iter(b)))["id"])
    busy = int(q(f"SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = '{app_name}' AND state <> 'idle'"))
    conns = int(q(f"SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = '{app_name}'"))
    deadlocks = int(q(f"SELECT deadlocks FROM pg_stat_database WHERE datname = '{db}'"))
    print(f"  balance total      {total} (opening {opening_total})")
    print(f"  ledger transfers   {ledger}; recorded outputs {recorded}; keys answered 2xx {keys_2xx}")
    print(f"  keys with >1 body  {several_bodies}; 2xx bodies not naming the recorded transfer {wrong_body}")
    print(f"  ledger transfers not exactly 2 rows summing to 0: {bad_pairs}; not recorded under exactly one key: {orphans}")
    print(f"  service connections {conns}, busy {busy}")
    print(f"  deadlocks (PostgreSQL, database {db}): {deadlocks}")
    if total != opening_total:
        failures.append("balance not conserved")
    if not (ledger == recorded == keys_2xx):
        failures.append("ledger transfers, recorded outputs and 2xx keys differ")
    if several_bodies or wrong_body:
        failures.append("a key got different bodies")
    if bad_pairs or orphans:
        failures.append("a transfer moved twice or half")
    if busy:
        failures.append("connections left busy")
    return failures, deadlocks


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--classpath", required=True)
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--sends", type=int, default=3)
    ap.add_argument("--duration", type=float, default=60)
    ap.add_argument("--kills", type=int, default=0)
    ap.add_argument("--port", type=int, default=18080)
    ap.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = ap.parse_args()

    db = f"txstep_load_{os.getpid()}"
    schema = "transfer"
    app_name = db
    psql("postgres", f"CREATE DATABASE {db}")
    url = f"r2dbc:postgresql://postgres@127.0.0.1:5432/{db}?applicationName={app_name}"
    log_path = f"target/transfer-load-{os.getpid()}.log"
    os.makedirs("target", exist_ok=True)
    log = open(log_path, "w")
    server = Server(args.classpath, args.port, url, schema, log)
    failures = []
    try:
        boot = await server.start()
        print(f"service up in {boot:.1f} s (first answer), log {log_path}")
        opening_total = int(psql(db, f'SELECT SUM(balance) FROM "{schema}".accounts'))
        stats = Stats()
        port_ref = [args.port]
        started = time.monotonic()
        stop_at = started + args.duration
        workers = [asyncio.create_task(worker(args, stats, stop_at, port_ref)) for _ in range(args.clients)]
        restarts = []
        for i in range(args.kills):
            # Evenly spread over the run, whatever each restart took.
            await asyncio.sleep(max(0.0, started + (i + 1) * args.duration / (args.kills + 1) - time.monotonic()))
            server.kill()
            print(f"  SIGKILL {i + 1} at {time.monotonic() - started:.1f} s")
            restarts.append(await server.start())
        await asyncio.gather(*workers)
        elapsed = time.monotonic() - started
        await asyncio.sleep(1)  # let the pool settle before counting its connections
        lat = sorted(stats.latencies)
        answered = len(lat)
        non2xx = sum(n for st, n in stats.statuses.items() if not 200 <= st < 300)
        print(f"{args.clients} clients, {args.sends} sends per key, {elapsed:.1f} s, {args.kills} SIGKILLs"
              + (f" (restarts {', '.join(f'{r:.1f}' for r in restarts)} s)" if restarts else ""))
        print(f"  answers {answered} = {answered / elapsed:.0f} req/s; p50 {pct(lat, 50) * 1000:.1f} ms,"
              f" p99 {pct(lat, 99) * 1000:.1f} ms, max {lat[-1] * 1000:.0f} ms")
        print(f"  statuses {dict(sorted(stats.statuses.items()))}; non-2xx {non2xx};"
              f" sends without an answer, sent again {stats.unanswered}")
        failures, deadlocks = check(db, schema, stats, app_name, opening_total)
        if args.kills == 0 and non2xx:
            failures.append(f"{non2xx} answers other than 2xx")
        if deadlocks:
            failures.append(f"{deadlocks} deadlocks")
    finally:
        server.stop()
        log.close()
        if not args.keep:
            psql("postgres", f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
    print("INVARIANTS HOLD" if not failures else "FAILED: " + "; ".join(failures))
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
