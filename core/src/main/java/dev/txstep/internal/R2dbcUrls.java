package dev.txstep.internal;

import dev.txstep.InvalidConfigurationException;
import io.r2dbc.spi.ConnectionFactoryOptions;

/** Parses R2DBC URLs, and hides their passwords in messages. */
public final class R2dbcUrls {

    private R2dbcUrls() {
    }

    /**
     * Parses an R2DBC URL.
     *
     * @param r2dbcUrl the URL
     * @return its options
     * @throws InvalidConfigurationException if it is blank or malformed
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
     * A URL without its password, for messages.
     *
     * @param url an R2DBC or JDBC URL, or null
     * @return the URL with the password of its user info replaced by {@code ***}
     */
    public static String redact(String url) {
        return url == null ? null : url.replaceAll("(//[^:/@]*:)[^@/]*@", "$1***@");
    }
}
