package dev.txstep.internal.dialect;

import dev.txstep.InvalidConfigurationException;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.Wrapped;
import java.util.List;
import java.util.Locale;
import java.util.function.Predicate;

/**
 * The supported databases: chooses a dialect from a connection factory's metadata. Supporting a
 * database means one line here (see docs/design-notes.md, "Adding a database").
 */
public final class Dialects {

    /** A dialect and the database product names (lower case) it speaks for. */
    private record Registration(String database, Predicate<String> names, Dialect dialect) {
    }

    private static final List<Registration> REGISTERED = List.of(
            new Registration("PostgreSQL", name -> name.contains("postgres"), PostgresDialect.INSTANCE),
            new Registration("H2", name -> name.equals("h2"), H2Dialect.INSTANCE),
            new Registration("MariaDB", name -> name.contains("mariadb") || name.contains("mysql"),
                    MariaDbDialect.INSTANCE));

    private Dialects() {
    }

    /**
     * The dialect for a factory, looking through wrappers such as a connection pool.
     *
     * @param factory the connection factory steps will use
     * @return its database's dialect
     * @throws InvalidConfigurationException for a database txstep does not support
     */
    public static Dialect of(ConnectionFactory factory) {
        ConnectionFactory probe = factory;
        for (int depth = 0; depth < 8 && probe instanceof Wrapped<?> wrapped
                && wrapped.unwrap() instanceof ConnectionFactory inner; depth++) {
            probe = inner;
        }
        return forDatabase(probe.getMetadata().getName());
    }

    /**
     * The dialect for a database product name, as a driver's metadata gives it.
     *
     * @param name e.g. {@code PostgreSQL}, {@code H2}, {@code MariaDB}
     * @return its dialect
     * @throws InvalidConfigurationException for a database txstep does not support
     */
    public static Dialect forDatabase(String name) {
        String normalized = name == null ? "" : name.toLowerCase(Locale.ROOT);
        for (Registration registration : REGISTERED) {
            if (registration.names().test(normalized)) {
                return registration.dialect();
            }
        }
        throw new InvalidConfigurationException("database '" + name + "' is not supported by txstep; supported: "
                + String.join(", ", REGISTERED.stream().map(Registration::database).toList()));
    }
}
