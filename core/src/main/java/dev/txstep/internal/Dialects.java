package dev.txstep.internal;

import dev.txstep.InvalidConfigurationException;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.Wrapped;
import java.util.Locale;

/** Chooses the dialect from the connection factory's metadata. */
public final class Dialects {

    private Dialects() {
    }

    /**
     * The dialect for a factory, looking through wrappers such as a connection pool.
     *
     * @throws InvalidConfigurationException for a database txstep does not support
     */
    public static Dialect of(ConnectionFactory factory) {
        ConnectionFactory probe = factory;
        for (int depth = 0; depth < 8 && probe instanceof Wrapped<?> wrapped
                && wrapped.unwrap() instanceof ConnectionFactory inner; depth++) {
            probe = inner;
        }
        String name = probe.getMetadata().getName();
        String normalized = name == null ? "" : name.toLowerCase(Locale.ROOT);
        if (normalized.contains("postgres")) {
            return PostgresDialect.INSTANCE;
        }
        if (normalized.equals("h2")) {
            return H2Dialect.INSTANCE;
        }
        if (normalized.contains("mariadb") || normalized.contains("mysql")) {
            return MariaDbDialect.INSTANCE;
        }
        throw new InvalidConfigurationException("database '" + name + "' is not supported by txstep;"
                + " supported: PostgreSQL, H2, MariaDB");
    }
}
