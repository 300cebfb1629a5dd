package dev.txstep.reactor.dbos;

import dev.dbos.transact.config.DBOSConfig;
import dev.txstep.spi.JdbcCoordinates;
import dev.txstep.testing.TestDatabases;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A DBOS system database of the tests' own, on the PostgreSQL server the tests use: created fresh
 * ({@code txstep_dbos_<random>}) and dropped at the end, so a test never recovers another run's
 * workflows.
 *
 * @param name     the database's name
 * @param jdbcUrl  its JDBC URL
 * @param user     the user, or null
 * @param password the password, or null
 */
record DbosSystemDatabase(String name, String jdbcUrl, String user, String password) {

    /** Fixed, so a DBOS in another JVM recovers the workflows a killed one left (same version). */
    static final String APP_VERSION = "txstep-dbos-test";

    private static final Pattern DATABASE = Pattern.compile("^(jdbc:postgresql://[^/?]+/)([^?]*)(.*)$");

    /** Creates a new, empty database on the test server. */
    static DbosSystemDatabase create() {
        String name = TestDatabases.uniqueSchema("txstep_dbos");
        TestDatabases.exec(TestDatabases.postgresR2dbcUrl(), "CREATE DATABASE " + name);
        return named(name);
    }

    /** The database {@code name} on the test server, without creating it. */
    static DbosSystemDatabase named(String name) {
        JdbcCoordinates server = JdbcCoordinates.derivedFrom(TestDatabases.postgresR2dbcUrl());
        Matcher m = DATABASE.matcher(TestDatabases.postgresJdbcUrl());
        if (!m.matches()) {
            throw new IllegalStateException("cannot name a database in " + TestDatabases.postgresJdbcUrl());
        }
        return new DbosSystemDatabase(name, m.group(1) + name + m.group(3), server.user(), server.password());
    }

    /** A DBOS configuration on this database: no admin server, a fixed application version. */
    DBOSConfig config() {
        DBOSConfig config = DBOSConfig.defaults("txstep-dbos-test")
                .withDatabaseUrl(jdbcUrl)
                .disableAdminServer()
                .withAppVersion(APP_VERSION);
        if (user != null) {
            config = config.withDbUser(user);
        }
        // DBOS requires a password, even an empty one for trust authentication.
        return config.withDbPassword(password == null ? "" : password);
    }

    /**
     * The steps DBOS recorded for a workflow, as {@code "<step id>:<name>"} in id order, read from
     * its {@code operation_outputs} table.
     */
    List<String> recordedSteps(String workflowId) {
        List<String> steps = new ArrayList<>();
        try (Connection c = connect(); PreparedStatement s = c.prepareStatement("SELECT function_id, function_name"
                + " FROM dbos.operation_outputs WHERE workflow_uuid = ? ORDER BY function_id")) {
            s.setString(1, workflowId);
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    steps.add(rs.getInt(1) + ":" + rs.getString(2));
                }
            }
        } catch (SQLException e) {
            throw new IllegalStateException("cannot read DBOS's steps of " + workflowId, e);
        }
        return steps;
    }

    /** Drops the database, closing whatever sessions are left in it. */
    void drop() {
        TestDatabases.exec(TestDatabases.postgresR2dbcUrl(), "DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
    }

    private Connection connect() throws SQLException {
        return DriverManager.getConnection(jdbcUrl, user, password);
    }
}
