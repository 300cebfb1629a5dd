package dev.txstep.testing;

import dev.txstep.spi.JdbcCoordinates;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;
import java.util.UUID;

/**
 * Where the tests find their databases. PostgreSQL, in this order: the URL in
 * {@code TXSTEP_TEST_R2DBC_URL} (and {@code TXSTEP_TEST_JDBC_URL} if the JDBC URL cannot be
 * derived), else a server on 127.0.0.1:5432 (user {@code postgres}, database {@code postgres}),
 * else a Testcontainers PostgreSQL when a Docker engine is present. If none is found, the test
 * fails with a message saying how to provide one: a database test is never skipped.
 * MariaDB: {@code TXSTEP_TEST_MARIADB_URL}, else a server on 127.0.0.1:3306.
 * H2 runs in memory, in the test's JVM.
 */
public final class TestDatabases {

    /** The PostgreSQL test URL unless the environment says otherwise. */
    public static final String DEFAULT_POSTGRES_URL = "r2dbc:postgresql://postgres@127.0.0.1:5432/postgres";

    /** The MariaDB test URL unless the environment says otherwise. */
    public static final String DEFAULT_MARIADB_URL = "r2dbc:mariadb://root@127.0.0.1:3306/test";

    private static volatile String postgresUrl;

    private TestDatabases() {
    }

    /** The R2DBC URL of the PostgreSQL test database, resolved once per JVM. */
    public static synchronized String postgresR2dbcUrl() {
        if (postgresUrl == null) {
            postgresUrl = resolvePostgres();
        }
        return postgresUrl;
    }

    /** The JDBC URL for the same PostgreSQL database. */
    public static String postgresJdbcUrl() {
        String explicit = System.getenv("TXSTEP_TEST_JDBC_URL");
        return explicit != null && !explicit.isBlank() ? explicit : JdbcCoordinates.derivedFrom(postgresR2dbcUrl()).url();
    }

    /**
     * The R2DBC URL of the MariaDB test database: {@code TXSTEP_TEST_MARIADB_URL}, else a server on
     * 127.0.0.1:3306 (user root without password, database test). Fails, with how to start one,
     * when neither is there.
     */
    public static String mariadbR2dbcUrl() {
        String fromEnv = System.getenv("TXSTEP_TEST_MARIADB_URL");
        if (fromEnv != null && !fromEnv.isBlank()) {
            return fromEnv.trim();
        }
        if (listening("127.0.0.1", 3306)) {
            return DEFAULT_MARIADB_URL;
        }
        throw new IllegalStateException("No MariaDB for the tests: nothing listens on 127.0.0.1:3306 and"
                + " TXSTEP_TEST_MARIADB_URL is not set. Start one, e.g. `start-stop-daemon --start --oknodo"
                + " --background --exec /usr/sbin/mariadbd` (Debian, after `apt-get install mariadb-server`), or set"
                + " TXSTEP_TEST_MARIADB_URL=r2dbc:mariadb://user:password@host:3306/database.");
    }

    /** A fresh in-memory H2 database's R2DBC URL. */
    public static String h2R2dbcUrl() {
        return "r2dbc:h2:mem:///txstep_" + UUID.randomUUID().toString().replace("-", "");
    }

    /** A schema name no other test uses. */
    public static String uniqueSchema(String prefix) {
        return (prefix + "_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12)).toLowerCase(Locale.ROOT);
    }

    /** A JDBC connection to the database an R2DBC URL names, for assertions (count rows, read values). */
    public static Connection jdbc(String r2dbcUrl) throws SQLException {
        JdbcCoordinates jdbc = JdbcCoordinates.derivedFrom(r2dbcUrl);
        String url = r2dbcUrl.equals(postgresUrl) ? postgresJdbcUrl() : jdbc.url();
        return DriverManager.getConnection(url, jdbc.user(), jdbc.password());
    }

    /** Runs one statement over JDBC. */
    public static void exec(String r2dbcUrl, String sql) {
        try (Connection c = jdbc(r2dbcUrl); Statement s = c.createStatement()) {
            s.execute(sql);
        } catch (SQLException e) {
            throw new IllegalStateException("failed: " + sql, e);
        }
    }

    /** The single long value a query returns, over JDBC. */
    public static long queryLong(String r2dbcUrl, String sql) {
        try (Connection c = jdbc(r2dbcUrl); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            if (!rs.next()) {
                throw new IllegalStateException("no row: " + sql);
            }
            return rs.getLong(1);
        } catch (SQLException e) {
            throw new IllegalStateException("failed: " + sql, e);
        }
    }

    private static String resolvePostgres() {
        String fromEnv = System.getenv("TXSTEP_TEST_R2DBC_URL");
        if (fromEnv != null && !fromEnv.isBlank()) {
            return fromEnv.trim();
        }
        if (listening("127.0.0.1", 5432)) {
            return DEFAULT_POSTGRES_URL;
        }
        String container = TestcontainersPostgres.startIfDockerAvailable();
        if (container != null) {
            return container;
        }
        throw new IllegalStateException("No PostgreSQL for the tests: nothing listens on 127.0.0.1:5432,"
                + " TXSTEP_TEST_R2DBC_URL is not set and no Docker engine is available for Testcontainers."
                + " Start one, e.g. `pg_ctlcluster --skip-systemctl-redirect 15 main start` (Debian),"
                + " `docker run -p 5432:5432 -e POSTGRES_HOST_AUTH_METHOD=trust postgres:15`, or set"
                + " TXSTEP_TEST_R2DBC_URL=r2dbc:postgresql://user:password@host:5432/database.");
    }

    private static boolean listening(String host, int port) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(host, port), 500);
            return true;
        } catch (Exception e) {
            return false;
        }
    }
}
