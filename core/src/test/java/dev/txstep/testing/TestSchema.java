package dev.txstep.testing;

/**
 * A test's own schema in a test database, and the JDBC helpers tests use to check it: qualified
 * names, statements, counts. Tests keep a {@code counter} table with one row ({@code id = 1}) whose
 * {@code n} their steps increment: {@link #counter()} reads it.
 *
 * @param url  the database's R2DBC URL
 * @param name the schema's name (a plain identifier, used quoted)
 */
public record TestSchema(String url, String name) {

    /** A table of this schema, quoted and qualified. */
    public String q(String table) {
        return isMariaDb() ? "`" + name + "`." + table : "\"" + name + "\"." + table;
    }

    /** The marker of the {@code index}-th (from 1) bound parameter in the driver's syntax. */
    public String param(int index) {
        return isMariaDb() ? "?" : "$" + index;
    }

    /** Drops the schema and everything in it (on MariaDB a schema is a database). */
    public void drop() {
        exec(isMariaDb() ? "DROP DATABASE IF EXISTS `" + name + "`" : "DROP SCHEMA IF EXISTS \"" + name + "\" CASCADE");
    }

    /**
     * The SQL that reads the isolation level of the running transaction, as this database names it
     * (the tests check that a step runs at the level it asked for).
     */
    public String isolationQuery() {
        if (isMariaDb()) {
            return "SELECT @@tx_isolation";
        }
        return url.startsWith("r2dbc:h2:")
                ? "SELECT ISOLATION_LEVEL FROM INFORMATION_SCHEMA.SESSIONS WHERE SESSION_ID = SESSION_ID()"
                : "SHOW transaction_isolation";
    }

    private boolean isMariaDb() {
        return url.startsWith("r2dbc:mariadb:") || url.startsWith("r2dbc:mysql:");
    }

    /** txstep's output table in this schema. */
    public String outputs() {
        return q("datasource_outputs");
    }

    /** Runs one statement over JDBC. */
    public void exec(String sql) {
        TestDatabases.exec(url, sql);
    }

    /** The single long value a query returns, over JDBC. */
    public long count(String sql) {
        return TestDatabases.queryLong(url, sql);
    }

    /** Creates the tests' counter table with its one row at 0. */
    public void createCounter() {
        exec("CREATE TABLE " + q("counter") + " (id INT PRIMARY KEY, n INT NOT NULL)");
        exec("INSERT INTO " + q("counter") + " VALUES (1, 0)");
    }

    /** The value of the tests' counter row. */
    public long counter() {
        return count("SELECT n FROM " + q("counter") + " WHERE id = 1");
    }
}
