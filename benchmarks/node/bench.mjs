// The DBOS TypeScript variant of the txstep benchmark (see BENCHMARKS.md).
//
// One measurement per process: the Java harness spawns this script once per round, so it
// interleaves with the Java variants. Each of `--concurrency` workers runs DBOS workflows of
// `--steps` sequential @dbos-inc/postgres-datasource transactions, each the benchmark's transaction
// (UPDATE one random account, INSERT one ledger row), every workflow under a fresh id. After
// `--warmup` seconds, steps completed during `--seconds` are counted and timed.
//
// stdout carries exactly one line, the JSON result:
//   {"ops":N,"seconds":S,"opsPerSec":X,"p50Ms":A,"p99Ms":B,"errors":E}
// Everything else (progress, DBOS's own logging) goes to stderr.

import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { DBOS } from '@dbos-inc/dbos-sdk';
import { PostgresDataSource, IsolationLevel } from '@dbos-inc/postgres-datasource';

const { values: args } = parseArgs({
  options: {
    concurrency: { type: 'string', default: '16' },
    isolation: { type: 'string', default: 'READ_COMMITTED' },
    seconds: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '2' },
    steps: { type: 'string', default: '10' },
    accounts: { type: 'string', default: '10000' },
    'app-url': { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/postgres' },
    'system-url': { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/bench_dbos_ts_sys' },
    'app-schema': { type: 'string', default: 'bench_app' },
    'output-schema': { type: 'string', default: 'bench_dbos_ts' },
    'pool-size': { type: 'string' },
    'system-pool-size': { type: 'string', default: '10' },
    'run-id': { type: 'string', default: `${process.pid}-${Date.now()}` },
  },
});

const concurrency = positiveInt('concurrency');
const seconds = positiveNumber('seconds');
const warmupSeconds = Number(args.warmup);
const stepsPerWorkflow = positiveInt('steps');
const accounts = positiveInt('accounts');
const poolSize = args['pool-size'] === undefined ? concurrency : positiveInt('pool-size');
const isolation = {
  READ_COMMITTED: IsolationLevel.ReadCommitted,
  SERIALIZABLE: IsolationLevel.Serializable,
}[args.isolation];
if (isolation === undefined) {
  fail(`--isolation must be READ_COMMITTED or SERIALIZABLE, was '${args.isolation}'`);
}
const identifier = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
for (const name of ['app-schema', 'output-schema']) {
  if (!identifier.test(args[name])) fail(`--${name} must be a plain SQL identifier, was '${args[name]}'`);
}

// The same two statements as the Java variants, text for text.
const UPDATE = `UPDATE ${args['app-schema']}.accounts SET balance = balance + $1 WHERE id = $2`;
const INSERT = `INSERT INTO ${args['app-schema']}.ledger (account_id, amount) VALUES ($1, $2)`;

const app = new URL(args['app-url']);
const datasource = new PostgresDataSource(
  'bench',
  {
    host: app.hostname,
    port: Number(app.port || 5432),
    user: decodeURIComponent(app.username || 'postgres'),
    password: decodeURIComponent(app.password),
    database: app.pathname.slice(1) || 'postgres',
    max: poolSize,
  },
  args['output-schema'],
);

const transfer = datasource.registerTransaction(
  async (accountId, amount) => {
    const sql = datasource.client;
    await sql.unsafe(UPDATE, [amount, accountId]);
    await sql.unsafe(INSERT, [accountId, amount]);
    return 1;
  },
  { name: 'transfer', isolationLevel: isolation },
);

// Latencies of the steps completed inside the measured window, in milliseconds.
const window = { open: false, latencies: [], errors: 0 };

const transfers = DBOS.registerWorkflow(
  async (steps) => {
    for (let i = 0; i < steps; i++) {
      const started = performance.now();
      await transfer(1 + Math.floor(Math.random() * accounts), 1 + Math.floor(Math.random() * 100));
      if (window.open) window.latencies.push(performance.now() - started);
    }
    return steps;
  },
  { name: 'transfers' },
);

let stopped = false;

async function worker(index) {
  let n = 0;
  while (!stopped) {
    try {
      await DBOS.withNextWorkflowID(`${args['run-id']}-${index}-${n++}`, () => transfers(stepsPerWorkflow));
    } catch (error) {
      if (window.open) window.errors++;
      log(`workflow failed: ${error?.message ?? error}`);
    }
  }
}

function percentile(sorted, p) {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function positiveInt(name) {
  const value = Number(args[name]);
  if (!Number.isInteger(value) || value < 1) fail(`--${name} must be a positive integer, was '${args[name]}'`);
  return value;
}

function positiveNumber(name) {
  const value = Number(args[name]);
  if (!(value > 0)) fail(`--${name} must be a positive number, was '${args[name]}'`);
  return value;
}

function log(message) {
  process.stderr.write(`[dbos-ts] ${message}\n`);
}

function fail(message) {
  log(message);
  process.exit(2);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// DBOS logs through console.log; stdout must hold nothing but the result line.
console.log = (...parts) => log(parts.join(' '));
console.info = console.log;

DBOS.setConfig({
  name: 'txstep-bench',
  systemDatabaseUrl: args['system-url'],
  systemDatabasePoolSize: positiveInt('system-pool-size'),
  logLevel: 'error',
  runAdminServer: false,
});
await DBOS.launch();

const workers = Array.from({ length: concurrency }, (_, i) => worker(i));
await sleep(warmupSeconds * 1000);
window.open = true;
const start = performance.now();
await sleep(seconds * 1000);
window.open = false;
const elapsed = (performance.now() - start) / 1000;
stopped = true;
await Promise.all(workers);
await DBOS.shutdown();

const sorted = Float64Array.from(window.latencies).sort();
process.stdout.write(
  JSON.stringify({
    ops: sorted.length,
    seconds: elapsed,
    opsPerSec: sorted.length / elapsed,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    errors: window.errors,
  }) + '\n',
);
process.exit(0);
