package dev.txstep.internal;

import dev.txstep.IsolationLevel;
import io.r2dbc.spi.Connection;
import reactor.core.publisher.Mono;

/**
 * What differs between databases: how a transaction begins at an isolation level, how the output
 * row is written together with the commit, which errors are transient, where the migrations are.
 */
public interface Dialect {

    /** The folder under {@code db/migration/} holding this database's migrations. */
    String migrationFolder();

    /** Begins a transaction at the given level on an idle connection. */
    Mono<Void> begin(Connection connection, IsolationLevel level);

    /**
     * Inserts the output row and commits, in as few round trips as the driver allows. Errors with
     * the driver's exception if either fails, e.g. a unique violation when another executor
     * recorded the step first; the transaction is then still open (or aborted) and must be rolled back.
     */
    Mono<Void> insertAndCommit(Connection connection, String table, OutputRow row);

    /**
     * Returns a connection to its pool. The default just closes it; a dialect whose driver works
     * synchronously on the caller's thread may need more (see {@link H2Dialect}).
     */
    default Mono<Void> release(Connection connection) {
        return Mono.from(connection.close());
    }

    /** Whether an SQLSTATE (other than connection failures) marks a transient conflict. */
    boolean isRetryableSqlState(String sqlState);

    /** The SQL that reads the isolation level of the current transaction, for diagnostics and tests. */
    String currentIsolationLevelQuery();
}
