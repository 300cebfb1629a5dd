-- The limit's transaction: the output row as a literal INSERT in COMMIT's message. The DO block
-- costs what prepared-insert.sql's costs, and prepares nothing.
\set acct random(1, 10000)
\set amt random(1, 100)
\set wf random(1, 1000000000000000)
DO $d$BEGIN IF NOT EXISTS (SELECT FROM pg_prepared_statements WHERE name = 'never_prepared') THEN NULL; END IF; END$d$ \; BEGIN ISOLATION LEVEL READ COMMITTED;
UPDATE bench_app.accounts SET balance = balance + :amt WHERE id = :acct;
INSERT INTO bench_app.ledger (account_id, amount) VALUES (:acct, :amt);
INSERT INTO lim.datasource_outputs (workflow_id, step_id, step_name, output, error, serialization, created_at) VALUES ($q1$txstep-limit-pgbench-:wf$q1$, 0, $q2$transfer$q2$, $q3$["java.lang.Long",1]$q3$, NULL, $q4$jackson$q4$, 1764670000000) \; COMMIT;
