package dev.txstep.internal;

import dev.txstep.IsolationLevel;
import dev.txstep.StepKey;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.R2dbcException;
import io.r2dbc.spi.Result;
import java.util.function.Function;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * H2, the embedded default. r2dbc-h2 ignores the isolation level passed to
 * {@code beginTransaction}, so the level is set on the session first. H2 runs in-process: the
 * output row is an ordinary bound insert and the commit a separate call, with no network between.
 */
final class H2Dialect implements Dialect {

    static final H2Dialect INSTANCE = new H2Dialect();

    private H2Dialect() {
    }

    @Override
    public String migrationFolder() {
        return "h2";
    }

    /** H2 has no read-only transactions: a read-only step runs in an ordinary one (and records nothing). */
    @Override
    public Mono<Void> begin(Connection connection, IsolationLevel level, boolean readOnly) {
        String set = "SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL " + level.sql();
        return Flux.from(connection.createStatement(set).execute())
                .concatMap(Result::getRowsUpdated)
                .then(Mono.from(connection.beginTransaction()));
    }

    @Override
    public Mono<LoadedSteps> loadThenBegin(Connection connection, Function<String, String> query, StepKey key,
            IsolationLevel level) {
        // In-process: a bound parameter costs nothing here, and r2dbc-h2's placeholder scan does not
        // skip string literals (a '$1' inside one would be taken for a parameter).
        return OutputStore.loaded(connection.createStatement(query.apply(parameter(1))).bind(0, key.workflowId()).execute(), key)
                .flatMap(loaded -> loaded.current() != null ? Mono.just(loaded) : begin(connection, level, false).thenReturn(loaded));
    }

    @Override
    public Mono<Void> insertAndCommit(Connection connection, String table, OutputRow row) {
        return OutputStore.insert(this, connection, table, row).then(Mono.from(connection.commitTransaction()));
    }

    /** r2dbc-h2 runs the H2 engine on the caller's thread, lock waits included. */
    @Override
    public boolean runsOnCallingThread() {
        return true;
    }

    /**
     * In-process: an I/O error is H2's own (its file), not a lost connection. A thread interrupted
     * inside H2 closes the file channel, and running the step again does not reopen it.
     */
    @Override
    public boolean canLoseConnections() {
        return false;
    }

    /**
     * r2dbc-h2 completes every call synchronously, so without a hop the code after a release — the
     * next step acquiring a connection — runs inside the pool's own release, and r2dbc-pool's
     * permit count goes wrong ("unexpected decrement below 0", then "Too many permits returned"
     * when the pool is disposed). Continuing on another thread keeps the two apart.
     */
    @Override
    public Mono<Void> release(Connection connection) {
        return Mono.from(connection.close()).publishOn(WorkerThreads.scheduler());
    }

    /** H2 limits a DELETE itself; its row-value IN subquery would scan the table once per key. */
    @Override
    public String deleteBatch(String table, String condition, int limit) {
        return "DELETE FROM " + table + " WHERE " + condition + " FETCH FIRST " + limit + " ROWS ONLY";
    }

    @Override
    public boolean isTransientConflict(R2dbcException error) {
        // 40001 deadlock, 90131 concurrent update in MVStore, HYT00 lock timeout.
        String state = error.getSqlState();
        return "40001".equals(state) || "90131".equals(state) || "HYT00".equals(state);
    }
}
