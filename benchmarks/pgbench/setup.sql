-- The bench's tables, for pgbench (scripts/pgbench-statements.sh): accounts and ledger as the
-- harness creates them, and two output tables shaped as txstep's migration makes them.
CREATE SCHEMA bench_app;
CREATE TABLE bench_app.accounts (id integer PRIMARY KEY, balance bigint NOT NULL);
INSERT INTO bench_app.accounts SELECT g, 0 FROM generate_series(1, 10000) AS g;
CREATE TABLE bench_app.ledger (id bigserial PRIMARY KEY, account_id integer NOT NULL, amount bigint NOT NULL);
ANALYZE bench_app.accounts;
CREATE SCHEMA lim;
CREATE TABLE lim.datasource_outputs (
    workflow_id text NOT NULL, step_id integer NOT NULL, step_name text NOT NULL, output text, error text,
    serialization text, created_at bigint NOT NULL DEFAULT (EXTRACT(EPOCH FROM now()) * 1000)::bigint,
    PRIMARY KEY (workflow_id, step_id));
CREATE INDEX ON lim.datasource_outputs USING brin (created_at);
CREATE SCHEMA tx;
CREATE TABLE tx.datasource_outputs (LIKE lim.datasource_outputs INCLUDING ALL);
