package dev.txstep.bench;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Properties;

/**
 * Where the benchmark's PostgreSQL is, and the URLs each client wants for it. The workload's tables
 * live in {@link #database()}; DBOS's system databases are siblings on the same server.
 *
 * @param host     the server's host
 * @param port     its port
 * @param user     the user (trust authentication, or with {@code password})
 * @param password the password; empty for none
 * @param database the application database
 */
public record Postgres(String host, int port, String user, String password, String database) {

    /** @return the R2DBC URL of the application database */
    public String r2dbcUrl() {
        return "r2dbc:postgresql://" + credentials() + host + ":" + port + "/" + database;
    }

    /**
     * @param name a database on this server
     * @return its JDBC URL (credentials are passed separately, see {@link #connect(String)})
     */
    public String jdbcUrl(String name) {
        return "jdbc:postgresql://" + host + ":" + port + "/" + name;
    }

    /**
     * @param name a database on this server
     * @return its libpq-style URL, as node-postgres and postgres.js take it
     */
    public String nodeUrl(String name) {
        return "postgres://" + credentials() + host + ":" + port + "/" + name;
    }

    /**
     * Opens a JDBC connection, for set-up and clean-up (never inside a timed window).
     *
     * @param name a database on this server
     * @return an auto-commit connection
     * @throws SQLException if the server cannot be reached, with the URL in the message
     */
    public Connection connect(String name) throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", user);
        if (!password.isEmpty()) {
            props.setProperty("password", password);
        }
        return DriverManager.getConnection(jdbcUrl(name), props);
    }

    private String credentials() {
        String encodedUser = URLEncoder.encode(user, StandardCharsets.UTF_8);
        return password.isEmpty() ? encodedUser + "@"
                : encodedUser + ":" + URLEncoder.encode(password, StandardCharsets.UTF_8) + "@";
    }
}
