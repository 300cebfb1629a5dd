package dev.txstep.internal.store;

import dev.txstep.DatasourceException;
import dev.txstep.internal.R2dbcUrls;
import dev.txstep.internal.dialect.Dialect;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.configuration.FluentConfiguration;

/**
 * Installs {@code datasource_outputs} with Flyway over JDBC. Blocking: call it off the event loop.
 *
 * <p>Flyway's history table is {@code txstep_schema_history} in the same schema, so it never
 * meets an application's own Flyway history. Several processes may migrate at once: each first
 * takes a session-level lock (an advisory lock on PostgreSQL, a named lock on MariaDB), because
 * creating the schema and the history table is not otherwise safe against a concurrent creator;
 * within one JVM migrations run one at a time. A schema that already holds other tables (DBOS's own {@code dbos} schema, say) is
 * baselined at version 0, so txstep's migrations still run in it.
 */
public final class Migrator {

    /** Flyway's history table, in the datasource's schema. */
    private static final String HISTORY_TABLE = "txstep_schema_history";

    private static final Object JVM_LOCK = new Object();

    private Migrator() {
    }

    /**
     * Migrates through a JDBC URL; blocks until done.
     *
     * @param dialect  the database's dialect: its migration folder and lock
     * @param schema   a validated SQL identifier
     * @param jdbcUrl  the JDBC URL
     * @param user     the user, or null
     * @param password the password, or null
     * @throws DatasourceException if the migration fails
     */
    public static void migrate(Dialect dialect, String schema, String jdbcUrl, String user, String password) {
        migrate(dialect, schema, new Jdbc(jdbcUrl, user, password, null));
    }

    /**
     * Migrates through a JDBC data source; blocks until done.
     *
     * @param dialect    the database's dialect: its migration folder and lock
     * @param schema     a validated SQL identifier
     * @param dataSource the data source
     * @throws DatasourceException if the migration fails
     */
    public static void migrate(Dialect dialect, String schema, DataSource dataSource) {
        migrate(dialect, schema, new Jdbc(null, null, null, dataSource));
    }

    private static void migrate(Dialect dialect, String schema, Jdbc jdbc) {
        FluentConfiguration configuration = Flyway.configure(Migrator.class.getClassLoader())
                .schemas(schema)
                .defaultSchema(schema)
                .createSchemas(true)
                .table(HISTORY_TABLE)
                .locations("classpath:db/migration/" + dialect.migrationFolder())
                .placeholders(Map.of("schema", schema))
                .baselineOnMigrate(true)
                .baselineVersion("0")
                .baselineDescription("txstep baseline")
                .loggers("slf4j");
        configuration = jdbc.dataSource != null ? configuration.dataSource(jdbc.dataSource)
                : configuration.dataSource(jdbc.url, jdbc.user, jdbc.password);
        Flyway flyway = configuration.load();
        synchronized (JVM_LOCK) {
            String lockSql = dialect.migrationLock();
            try (Connection lock = lockSql != null ? jdbc.open() : null) {
                if (lock != null) {
                    try (Statement statement = lock.createStatement()) {
                        statement.execute(lockSql);
                    }
                }
                flyway.migrate();
                // The session-level lock ends with the connection.
            } catch (SQLException | RuntimeException e) {
                throw new DatasourceException("could not install the datasource_outputs table in schema '" + schema
                        + "' (" + (jdbc.url == null ? "given DataSource" : R2dbcUrls.redact(jdbc.url)) + "): "
                        + e.getMessage(), e);
            }
        }
    }

    private record Jdbc(String url, String user, String password, DataSource dataSource) {
        Connection open() throws SQLException {
            return dataSource != null ? dataSource.getConnection() : DriverManager.getConnection(url, user, password);
        }
    }
}
