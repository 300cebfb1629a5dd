-- txstep's transaction on PostgreSQL: the output row as EXECUTE of an insert prepared once per
-- connection (the DO block prepares it on a connection's first transaction), in COMMIT's message.
\set acct random(1, 10000)
\set amt random(1, 100)
\set wf random(1, 1000000000000000)
DO $d$BEGIN IF NOT EXISTS (SELECT FROM pg_prepared_statements WHERE name = 'ins') THEN EXECUTE 'PREPARE ins (text, integer, text, text, text, text, bigint) AS INSERT INTO tx.datasource_outputs (workflow_id, step_id, step_name, output, error, serialization, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)'; END IF; END$d$ \; BEGIN ISOLATION LEVEL READ COMMITTED;
UPDATE bench_app.accounts SET balance = balance + :amt WHERE id = :acct;
INSERT INTO bench_app.ledger (account_id, amount) VALUES (:acct, :amt);
EXECUTE ins($q1$txstep-first-pgbench-:wf$q1$, 0, $q2$transfer$q2$, $q3$["java.lang.Long",1]$q3$, NULL, $q4$jackson$q4$, 1764670000000) \; COMMIT;
