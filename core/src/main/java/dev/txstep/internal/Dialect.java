package dev.txstep.internal;

import dev.txstep.IsolationLevel;
import dev.txstep.StepKey;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.R2dbcException;
import java.util.function.Function;
import reactor.core.publisher.Mono;

/**
 * What differs between databases: how names are quoted and parameters marked, how a transaction
 * begins at an isolation level, how the output row is written together with the commit, which
 * errors are transient conflicts, where the migrations are.
 */
public interface Dialect {

    /** The table {@code table} of {@code schema} (a validated identifier), quoted as this database quotes. */
    default String qualify(String schema, String table) {
        return "\"" + schema + "\"." + table;
    }

    /** The marker of the {@code index}-th (from 1) bound parameter in this driver's syntax. */
    default String parameter(int index) {
        return "$" + index;
    }

    /**
     * The longest workflow id the output table holds; longer ids are refused before anything is
     * written. Defaults to {@link StepKey#MAX_WORKFLOW_ID_LENGTH}.
     */
    default int maxWorkflowIdLength() {
        return StepKey.MAX_WORKFLOW_ID_LENGTH;
    }

    /** The folder under {@code db/migration/} holding this database's migrations. */
    String migrationFolder();

    /**
     * Begins a transaction at the given level on an idle connection, read-only if asked and the
     * database enforces it.
     */
    Mono<Void> begin(Connection connection, IsolationLevel level, boolean readOnly);

    /**
     * For the first step of a workflow execution, on one idle connection: runs the query
     * {@code select} builds around an SQL expression of the workflow id (a literal or a parameter
     * marker, as the dialect prefers; see {@link OutputStore#loadQuery}) outside any SERIALIZABLE
     * transaction, and begins the step's transaction at the given level unless the read shows the
     * step itself recorded (a transaction may then be open or not: rolling back is harmless).
     */
    Mono<LoadedSteps> loadThenBegin(Connection connection, Function<String, String> select, StepKey key,
            IsolationLevel level);

    /**
     * Inserts the output row and commits, in as few round trips as the driver allows. Errors with
     * the driver's exception if either fails, e.g. a unique violation when another executor
     * recorded the step first; the transaction is then still open (or aborted) and must be rolled back.
     */
    Mono<Void> insertAndCommit(Connection connection, String table, OutputRow row);

    /**
     * Whether the driver does its work on the calling thread (an embedded database): then a step
     * is subscribed on a worker thread, so that waiting for a lock never holds an event loop.
     */
    default boolean runsOnCallingThread() {
        return false;
    }

    /**
     * Whether connections reach the database over a network and can be lost: then a driver error
     * without SQLSTATE, or an I/O error, means a lost connection, and a new attempt may succeed. An
     * in-process database has no connection to lose: such errors are its own, and not transient.
     */
    default boolean canLoseConnections() {
        return true;
    }

    /**
     * Returns a connection to its pool. The default just closes it; a dialect whose driver works
     * synchronously on the caller's thread may need more (see {@link H2Dialect}).
     */
    default Mono<Void> release(Connection connection) {
        return Mono.from(connection.close());
    }

    /**
     * Whether an error the database reported (it has an SQLSTATE) is a transient conflict between
     * transactions — a serialization failure, a deadlock, a lock timeout — that a new attempt may
     * not meet. Connection failures are judged elsewhere, the same for every database.
     */
    boolean isTransientConflict(R2dbcException error);

    /**
     * A statement deleting at most {@code limit} rows of {@code table} that match {@code condition}
     * (which may hold parameter markers): retention deletes in batches, so no statement holds many
     * row locks for long. The default selects the batch's keys in a subquery.
     */
    default String deleteBatch(String table, String condition, int limit) {
        return "DELETE FROM " + table + " WHERE (workflow_id, step_id) IN (SELECT workflow_id, step_id FROM " + table
                + " WHERE " + condition + " LIMIT " + limit + ")";
    }
}
