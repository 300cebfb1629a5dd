package dev.txstep.internal;

import dev.txstep.InvalidConfigurationException;
import io.r2dbc.spi.ConnectionFactoryOptions;
import io.r2dbc.spi.Option;
import java.util.Locale;

/**
 * Derives the JDBC URL (and credentials) that Flyway migrates through from an R2DBC URL.
 *
 * @param url      the JDBC URL
 * @param user     the user, or null
 * @param password the password, or null
 */
public record R2dbcUrls(String url, String user, String password) {

    /**
     * Parses an R2DBC URL.
     *
     * @throws InvalidConfigurationException if it is malformed
     */
    public static ConnectionFactoryOptions parse(String r2dbcUrl) {
        if (r2dbcUrl == null || r2dbcUrl.isBlank()) {
            throw new InvalidConfigurationException("R2DBC URL must not be blank");
        }
        try {
            return ConnectionFactoryOptions.parse(r2dbcUrl.trim());
        } catch (IllegalArgumentException e) {
            throw new InvalidConfigurationException("malformed R2DBC URL '" + redact(r2dbcUrl) + "': " + e.getMessage()
                    + " (expected e.g. r2dbc:postgresql://user@host:5432/database or r2dbc:h2:mem:///name)", e);
        }
    }

    /**
     * The JDBC coordinates of the database an R2DBC URL names.
     *
     * @throws InvalidConfigurationException if no JDBC URL can be derived
     */
    public static R2dbcUrls jdbcFor(String r2dbcUrl) {
        ConnectionFactoryOptions options = parse(r2dbcUrl);
        String driver = text(options, ConnectionFactoryOptions.DRIVER);
        String protocol = text(options, ConnectionFactoryOptions.PROTOCOL);
        if ("pool".equals(driver)) {
            // r2dbc:pool:postgresql:failover://... : the driver, then its own protocol, if any
            String inner = protocol == null ? "" : protocol;
            int colon = inner.indexOf(':');
            driver = colon < 0 ? inner : inner.substring(0, colon);
            protocol = colon < 0 ? null : inner.substring(colon + 1);
        }
        String user = text(options, ConnectionFactoryOptions.USER);
        Object password = options.getValue(ConnectionFactoryOptions.PASSWORD);
        String database = text(options, ConnectionFactoryOptions.DATABASE);
        String normalized = driver == null ? "" : driver.toLowerCase(Locale.ROOT);
        if (normalized.equals("postgresql") || normalized.equals("postgres")) {
            String host = text(options, ConnectionFactoryOptions.HOST);
            Object port = options.getValue(ConnectionFactoryOptions.PORT);
            String jdbc = "jdbc:postgresql://" + (host == null ? "localhost" : host)
                    + (port == null ? "" : ":" + port) + "/" + (database == null ? "" : database);
            // Several hosts (r2dbc:postgresql:failover://h1:5432,h2:5432/db): pgJDBC takes the same
            // host list, and migrations write, so they go to whichever host is the primary.
            if ("failover".equals(protocol) || (host != null && host.contains(","))) {
                jdbc += "?targetServerType=primary";
            }
            return new R2dbcUrls(jdbc, user, password == null ? null : password.toString());
        }
        if (normalized.equals("mariadb") || normalized.equals("mysql")) {
            String host = text(options, ConnectionFactoryOptions.HOST);
            Object port = options.getValue(ConnectionFactoryOptions.PORT);
            String jdbc = "jdbc:mariadb://" + (host == null ? "localhost" : host)
                    + (port == null ? "" : ":" + port) + "/" + (database == null ? "" : database);
            return new R2dbcUrls(jdbc, user, password == null ? null : password.toString());
        }
        if (normalized.equals("h2")) {
            if (database == null || protocol == null) {
                throw new InvalidConfigurationException("cannot derive a JDBC URL from '" + redact(r2dbcUrl)
                        + "': expected r2dbc:h2:mem:///name or r2dbc:h2:file:///path");
            }
            String path = database;
            // r2dbc-h2 keeps a mem database only while a connection is open; the migration's JDBC
            // connection closes, so the database must outlive it.
            String suffix = protocol.equals("mem") ? ";DB_CLOSE_DELAY=-1" : "";
            return new R2dbcUrls("jdbc:h2:" + protocol + ":" + path + suffix, user,
                    password == null ? null : password.toString());
        }
        throw new InvalidConfigurationException("cannot derive a JDBC URL for migrations from driver '" + driver
                + "'; give one with Config.builder().jdbcUrl(...) or turn migrations off with migrate(false)");
    }

    private static String text(ConnectionFactoryOptions options, Option<?> option) {
        Object value = options.getValue(option);
        return value == null ? null : value.toString();
    }

    /** The URL without its password, for messages. */
    public static String redact(String url) {
        return url == null ? null : url.replaceAll("(//[^:/@]*:)[^@/]*@", "$1***@");
    }
}
