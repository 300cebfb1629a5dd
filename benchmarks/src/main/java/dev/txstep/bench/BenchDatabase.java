package dev.txstep.bench;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

/**
 * Creates and removes everything the benchmark puts on the server: the workload's schema, each
 * variant's output schema and DBOS's system databases. Names all start with {@code bench_}, so a
 * run never touches another user's {@code dbos} schema on a shared server.
 */
public final class BenchDatabase {

    /** Where txstep records outputs ({@code datasource_outputs}). */
    public static final String TXSTEP_SCHEMA = "bench_txstep";
    /**
     * Where the limit variant writes its output rows: a {@code datasource_outputs} of its own, made
     * by txstep's migration, so the limit's inserts do not share pages and index with txstep's.
     */
    public static final String LIMIT_SCHEMA = "bench_limit";
    /** Where the {@code limit-bound} variant writes its output rows, for the same reason. */
    public static final String LIMIT_BOUND_SCHEMA = "bench_limit_bound";
    /** Where the {@code limit-read} variant writes (and reads) its output rows, for the same reason. */
    public static final String LIMIT_READ_SCHEMA = "bench_limit_read";
    /**
     * Where the blocking facade's steps record outputs: a table of their own, so that txstep-first's
     * and the limit's tables grow alike (each written by one variant) and neither pays for a larger
     * index than the other (with PostgreSQL's default 128 MB of shared buffers, that shows).
     */
    public static final String BLOCKING_SCHEMA = "bench_txstep_blocking";
    /** Where DBOS Java's {@code JdbcStepFactory} records outputs ({@code tx_step_outputs}). */
    public static final String DBOS_JAVA_SCHEMA = "bench_dbos_java";
    /** Where DBOS TS's {@code PostgresDataSource} records outputs ({@code transaction_completion}). */
    public static final String DBOS_TS_SCHEMA = "bench_dbos_ts";
    /** DBOS Java's system database. */
    public static final String DBOS_JAVA_SYSTEM_DB = "bench_dbos_sys";
    /** DBOS TS's system database (its migrations differ from DBOS Java's, so it gets its own). */
    public static final String DBOS_TS_SYSTEM_DB = "bench_dbos_ts_sys";

    private static final List<String> SCHEMAS = List.of(Transfers.SCHEMA, TXSTEP_SCHEMA, LIMIT_SCHEMA, LIMIT_BOUND_SCHEMA,
            LIMIT_READ_SCHEMA, BLOCKING_SCHEMA, DBOS_JAVA_SCHEMA, DBOS_TS_SCHEMA);
    private static final List<String> DATABASES = List.of(DBOS_JAVA_SYSTEM_DB, DBOS_TS_SYSTEM_DB);

    private final Postgres postgres;

    /** @param postgres the server and application database */
    public BenchDatabase(Postgres postgres) {
        this.postgres = postgres;
    }

    /**
     * Drops what an earlier run may have left, then creates the workload's tables: {@value
     * Transfers#ACCOUNTS} accounts and an empty ledger; and the system databases DBOS needs.
     *
     * @throws SQLException if the server refuses
     */
    public void create() throws SQLException {
        dropSchemas();
        try (Connection c = postgres.connect(postgres.database()); Statement s = c.createStatement()) {
            s.execute("CREATE SCHEMA " + Transfers.SCHEMA);
            s.execute("CREATE TABLE " + Transfers.SCHEMA + ".accounts (id integer PRIMARY KEY, balance bigint NOT NULL)");
            s.execute("INSERT INTO " + Transfers.SCHEMA + ".accounts SELECT g, 0 FROM generate_series(1, "
                    + Transfers.ACCOUNTS + ") AS g");
            s.execute("CREATE TABLE " + Transfers.SCHEMA + ".ledger (id bigserial PRIMARY KEY,"
                    + " account_id integer NOT NULL, amount bigint NOT NULL)");
            s.execute("ANALYZE " + Transfers.SCHEMA + ".accounts");
        }
        for (String database : DATABASES) {
            createDatabaseIfAbsent(database);
        }
    }

    /**
     * Drops the schemas and the system databases.
     *
     * @throws SQLException if the server refuses
     */
    public void drop() throws SQLException {
        dropSchemas();
        try (Connection c = postgres.connect(postgres.database()); Statement s = c.createStatement()) {
            for (String database : DATABASES) {
                // FORCE: a DBOS pool that was not closed cleanly must not keep the database alive.
                s.execute("DROP DATABASE IF EXISTS " + database + " WITH (FORCE)");
            }
        }
    }

    /**
     * @return the server's version string, for the report
     * @throws SQLException if the server cannot be reached
     */
    public String serverVersion() throws SQLException {
        try (Connection c = postgres.connect(postgres.database()); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT version()")) {
            rs.next();
            return rs.getString(1);
        }
    }

    /**
     * @return the process id of a server process serving a fresh connection (for its CPU affinity:
     *         a backend inherits the postmaster's)
     */
    public int backendPid() throws SQLException {
        try (Connection c = postgres.connect(postgres.database()); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT pg_backend_pid()")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    private void dropSchemas() throws SQLException {
        try (Connection c = postgres.connect(postgres.database()); Statement s = c.createStatement()) {
            for (String schema : SCHEMAS) {
                s.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
            }
        }
    }

    private void createDatabaseIfAbsent(String name) throws SQLException {
        try (Connection c = postgres.connect(postgres.database());
                PreparedStatement exists = c.prepareStatement("SELECT 1 FROM pg_database WHERE datname = ?")) {
            exists.setString(1, name);
            try (ResultSet rs = exists.executeQuery()) {
                if (rs.next()) {
                    return;
                }
            }
            try (Statement s = c.createStatement()) {
                s.execute("CREATE DATABASE " + name);
            }
        }
    }
}
