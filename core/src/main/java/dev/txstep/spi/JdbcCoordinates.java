package dev.txstep.spi;

import dev.txstep.InvalidConfigurationException;
import dev.txstep.internal.R2dbcUrls;
import io.r2dbc.spi.ConnectionFactoryOptions;
import io.r2dbc.spi.Option;
import java.util.Locale;

/**
 * The JDBC URL and credentials through which txstep's Flyway migration reaches the database an
 * R2DBC URL names. A datasource derives them itself when configured with a URL; integrations that
 * build the configuration from their own properties (the Spring Boot starter, say) derive them
 * with {@link #derivedFrom} to report a missing one in their own terms.
 *
 * @param url      the JDBC URL
 * @param user     the user, or null
 * @param password the password, or null
 */
public record JdbcCoordinates(String url, String user, String password) {

    /**
     * The JDBC coordinates of the database an R2DBC URL names: PostgreSQL, MariaDB (and MySQL) and
     * H2 ({@code mem} databases kept open while the migration's connection closes). An
     * {@code r2dbc:pool:} URL is read through to its driver.
     *
     * @param r2dbcUrl an R2DBC URL
     * @return the coordinates, with the URL's user and password
     * @throws InvalidConfigurationException if the URL is malformed or names a database for which no
     *                                       JDBC URL can be derived
     */
    public static JdbcCoordinates derivedFrom(String r2dbcUrl) {
        ConnectionFactoryOptions options = R2dbcUrls.parse(r2dbcUrl);
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
        String password = text(options, ConnectionFactoryOptions.PASSWORD);
        String database = text(options, ConnectionFactoryOptions.DATABASE);
        String normalized = driver == null ? "" : driver.toLowerCase(Locale.ROOT);
        if (normalized.equals("postgresql") || normalized.equals("postgres")) {
            String jdbc = serverUrl("jdbc:postgresql://", options, database);
            // Several hosts (r2dbc:postgresql:failover://h1:5432,h2:5432/db): pgJDBC takes the same
            // host list, and migrations write, so they go to whichever host is the primary.
            String host = text(options, ConnectionFactoryOptions.HOST);
            if ("failover".equals(protocol) || (host != null && host.contains(","))) {
                jdbc += "?targetServerType=primary";
            }
            return new JdbcCoordinates(jdbc, user, password);
        }
        if (normalized.equals("mariadb") || normalized.equals("mysql")) {
            return new JdbcCoordinates(serverUrl("jdbc:mariadb://", options, database), user, password);
        }
        if (normalized.equals("h2")) {
            if (database == null || protocol == null) {
                throw new InvalidConfigurationException("cannot derive a JDBC URL from '" + redact(r2dbcUrl)
                        + "': expected r2dbc:h2:mem:///name or r2dbc:h2:file:///path");
            }
            // r2dbc-h2 keeps a mem database only while a connection is open; the migration's JDBC
            // connection closes, so the database must outlive it.
            String suffix = protocol.equals("mem") ? ";DB_CLOSE_DELAY=-1" : "";
            return new JdbcCoordinates("jdbc:h2:" + protocol + ":" + database + suffix, user, password);
        }
        throw new InvalidConfigurationException("cannot derive a JDBC URL for migrations from driver '" + driver
                + "'; give one with DatasourceConfig.builder().jdbcUrl(...) or turn migrations off with migrate(false)");
    }

    /**
     * A URL without its password, for messages and logs.
     *
     * @param url an R2DBC or JDBC URL, or null
     * @return the URL with the password of its user info replaced by {@code ***}, or null
     */
    public static String redact(String url) {
        return R2dbcUrls.redact(url);
    }

    /** The coordinates without the password. */
    @Override
    public String toString() {
        return "JdbcCoordinates[url=" + redact(url) + ", user=" + user + ", password=" + (password == null ? null : "***")
                + "]";
    }

    private static String serverUrl(String prefix, ConnectionFactoryOptions options, String database) {
        String host = text(options, ConnectionFactoryOptions.HOST);
        Object port = options.getValue(ConnectionFactoryOptions.PORT);
        return prefix + (host == null ? "localhost" : host) + (port == null ? "" : ":" + port) + "/"
                + (database == null ? "" : database);
    }

    private static String text(ConnectionFactoryOptions options, Option<?> option) {
        Object value = options.getValue(option);
        return value == null ? null : value.toString();
    }
}
