package dev.txstep.internal.dialect;

import dev.txstep.IsolationLevel;
import dev.txstep.internal.WorkerThreads;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.R2dbcException;
import reactor.core.publisher.Mono;

/**
 * H2, the embedded default. r2dbc-h2 ignores the isolation level passed to
 * {@code beginTransaction}, so the level is set on the session first. H2 runs in-process: values
 * are bound (a bound parameter costs no round trip here, and r2dbc-h2's placeholder scan does not
 * skip string literals, so a {@code '$1'} inside a literal would be taken for a parameter) and the
 * commit is a separate call, with no network between.
 */
enum H2Dialect implements Dialect {

    INSTANCE;

    /** H2 limits a DELETE itself; its row-value IN subquery would scan the table once per key. */
    @Override
    public boolean limitsDeleteItself() {
        return true;
    }

    @Override
    public String rowLimit(int limit) {
        return " FETCH FIRST " + limit + " ROWS ONLY";
    }

    /** H2 has no read-only transactions: a read-only step runs in an ordinary one (and records nothing). */
    @Override
    public Mono<Void> begin(Connection connection, IsolationLevel level, boolean readOnly) {
        return SessionLevel.setThenBegin(connection,
                "SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL " + level.sql(), null);
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

    @Override
    public boolean isTransientConflict(R2dbcException error) {
        // 40001 deadlock, 90131 concurrent update in MVStore, HYT00 lock timeout.
        String state = error.getSqlState();
        return "40001".equals(state) || "90131".equals(state) || "HYT00".equals(state);
    }

    @Override
    public String migrationFolder() {
        return "h2";
    }
}
