package dev.txstep.internal.store;

import dev.txstep.internal.dialect.DatabaseErrors;
import dev.txstep.internal.dialect.Dialect;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.Result;
import io.r2dbc.spi.Wrapped;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.WeakHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The store's statements on every recorded step's path — the first step's load of recorded ids
 * and the output insert — prepared on the server once per pooled connection where the dialect
 * {@link Dialect#preparesStatements() can}, so that a step sends {@code EXECUTE name(literals)} in
 * the messages of its {@code BEGIN} and {@code COMMIT} and the server parses and plans neither
 * statement again. Why: on a machine that client and database share, the server's CPU per step
 * limits throughput, and parsing and planning were a large part of what a step added to it
 * (issue 15, BENCHMARKS.md).
 *
 * <p>Which driver connection holds which statements is kept for the whole JVM (datasources may
 * share a pool), keyed weakly by the driver's own connection object. A connection is prepared the
 * second time a step takes it: the first time it goes unprepared, so a connection used once (no
 * pool) never pays the extra round trip.
 *
 * <p>If the server reports a statement missing — dropped behind txstep's back, or a connection
 * pooler in transaction mode sending the {@code EXECUTE} to another server connection — the
 * attempt fails with {@link PreparedStatementMissingException}, which the engine retries, and this
 * store sends its statements unprepared from then on. Correctness never depends on the cache.
 */
final class PreparedStatements {

    private static final Logger LOG = LoggerFactory.getLogger(PreparedStatements.class);

    /** Driver connection → the names prepared on it; an empty set: seen once, nothing prepared. */
    private static final Map<Object, Set<String>> BY_CONNECTION = Collections.synchronizedMap(new WeakHashMap<>());

    /** Part of every name: change it whenever a statement's text changes. */
    private static final String VERSION = "v1";

    /** How deep a connection's wrappers (txstep's gate, the pool's) may be nested. */
    private static final int MAX_WRAPPERS = 8;

    /** A statement to prepare: its name, the SQL types of its parameters, its text with markers. */
    record Statement(String name, List<String> parameterTypes, String sql) {
    }

    private final Dialect dialect;
    private final List<Statement> statements;
    private final List<String> names;
    private volatile boolean abandoned;

    /**
     * @param dialect    the database's dialect; nothing is prepared unless it
     *                   {@link Dialect#preparesStatements() prepares statements}
     * @param statements the statements, each named by {@link #name(String, String)}
     */
    PreparedStatements(Dialect dialect, List<Statement> statements) {
        this.dialect = dialect;
        this.statements = List.copyOf(statements);
        this.names = statements.stream().map(Statement::name).toList();
        this.abandoned = !dialect.preparesStatements();
    }

    /**
     * The server-side name of one of a table's statements: unique per table, statement and
     * {@link #VERSION}, and an SQL identifier needing no quotes.
     */
    static String name(String table, String statement) {
        return "txstep_" + VERSION + "_" + Integer.toHexString(table.hashCode()) + "_" + statement;
    }

    /** Whether every statement is prepared on the connection, so executions of them may be sent. */
    boolean ready(Connection connection) {
        if (abandoned) {
            return false;
        }
        Set<String> prepared = BY_CONNECTION.get(driverConnection(connection));
        return prepared != null && prepared.containsAll(names);
    }

    /**
     * Whether to {@link #prepare} the connection before its step begins: true the second time a
     * step takes a connection whose statements are not all prepared. Records the first time.
     */
    boolean shouldPrepare(Connection connection) {
        if (abandoned) {
            return false;
        }
        Object key = driverConnection(connection);
        synchronized (BY_CONNECTION) {
            Set<String> prepared = BY_CONNECTION.get(key);
            if (prepared == null) {
                BY_CONNECTION.put(key, new HashSet<>());
                return false;
            }
            return !prepared.containsAll(names);
        }
    }

    /**
     * Prepares the statements on the connection, in one message, outside any transaction. A
     * statement of the same name already there is kept: the name says table, statement and version.
     * A failure gives up preparing for this store (logged): steps go on unprepared.
     *
     * @param connection an idle connection, not in a transaction
     * @return on subscribe, prepares; never errors
     */
    Mono<Void> prepare(Connection connection) {
        return Mono.defer(() -> {
            List<String> preparations = statements.stream()
                    .map(statement -> dialect.prepareStatement(statement.name(), statement.parameterTypes(), statement.sql()))
                    .toList();
            Object key = driverConnection(connection);
            return Flux.from(dialect.executeTogether(connection, preparations))
                    .concatMap(Result::getRowsUpdated)
                    .then(Mono.fromRunnable(() -> BY_CONNECTION.put(key, new HashSet<>(names))))
                    .onErrorResume(e -> {
                        abandon("preparing its statements failed (" + e + ")");
                        return Mono.empty();
                    })
                    .then();
        });
    }

    /**
     * What an error of a step's message that executed prepared statements means: if the server
     * did not find one, a {@link PreparedStatementMissingException}, and this store prepares
     * nothing from now on; else the error itself.
     */
    Throwable onExecutionError(Throwable error) {
        if (!dialect.isMissingPreparedStatement(DatabaseErrors.sqlState(error))) {
            return error;
        }
        abandon("the server lost its prepared statements (" + error.getMessage() + "): a connection pooler in"
                + " transaction mode, or DEALLOCATE/DISCARD ALL on txstep's connections");
        return new PreparedStatementMissingException(error);
    }

    private void abandon(String why) {
        if (!abandoned) {
            abandoned = true;
            LOG.warn("txstep sends its statements unprepared from now on: {}", why);
        }
    }

    /** The driver's connection under txstep's and the pool's wrappers: the same for every borrow. */
    private static Object driverConnection(Connection connection) {
        Object current = connection;
        for (int i = 0; i < MAX_WRAPPERS && current instanceof Wrapped<?> wrapped; i++) {
            Object inner = wrapped.unwrap();
            if (inner == null || inner == current) {
                break;
            }
            current = inner;
        }
        return current;
    }
}
