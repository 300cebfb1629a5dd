package dev.txstep.internal;

import dev.txstep.IsolationLevel;
import dev.txstep.StepKey;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.Option;
import io.r2dbc.spi.R2dbcException;
import io.r2dbc.spi.Result;
import io.r2dbc.spi.TransactionDefinition;
import java.util.function.Function;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * MariaDB (and MySQL's protocol, through r2dbc-mariadb). A schema is a database here; names are
 * quoted with backticks, parameters marked with {@code ?}.
 *
 * <p>The isolation level is set on the session before each begin, because MariaDB has no way to
 * read the level of the running transaction other than the session's ({@code @@tx_isolation}),
 * and every step sets it anyway, so no step inherits another's level. The execution's recorded ids
 * are read in auto-commit mode before the transaction begins: an auto-committed {@code SELECT}
 * is a consistent read that takes no locks even at SERIALIZABLE, where InnoDB turns a
 * {@code SELECT} inside a transaction into a locking read.
 */
final class MariaDbDialect implements Dialect {

    static final MariaDbDialect INSTANCE = new MariaDbDialect();

    /** InnoDB's 3072-byte key limit, less the step id's 4 bytes, in 4-byte characters. */
    private static final int MAX_WORKFLOW_ID_LENGTH = 767;

    /** ER_LOCK_WAIT_TIMEOUT: reported with the catch-all SQLSTATE HY000, so known by its code. */
    private static final int LOCK_WAIT_TIMEOUT = 1205;
    /** ER_LOCK_DEADLOCK (SQLSTATE 40001). */
    private static final int DEADLOCK = 1213;

    /** START TRANSACTION READ ONLY; the level was set on the session just before. */
    private static final TransactionDefinition READ_ONLY = new TransactionDefinition() {
        @Override
        @SuppressWarnings("unchecked")
        public <T> T getAttribute(Option<T> option) {
            return option.equals(TransactionDefinition.READ_ONLY) ? (T) Boolean.TRUE : null;
        }
    };

    private MariaDbDialect() {
    }

    @Override
    public String migrationFolder() {
        return "mariadb";
    }

    @Override
    public String qualify(String schema, String table) {
        return "`" + schema + "`." + table;
    }

    @Override
    public String parameter(int index) {
        return "?";
    }

    @Override
    public int maxWorkflowIdLength() {
        return MAX_WORKFLOW_ID_LENGTH;
    }

    @Override
    public Mono<Void> begin(Connection connection, IsolationLevel level, boolean readOnly) {
        return Flux.from(connection.createStatement("SET SESSION TRANSACTION ISOLATION LEVEL " + level.sql()).execute())
                .concatMap(Result::getRowsUpdated)
                .then(Mono.from(readOnly ? connection.beginTransaction(READ_ONLY) : connection.beginTransaction()));
    }

    @Override
    public Mono<LoadedSteps> loadThenBegin(Connection connection, Function<String, String> query, StepKey key,
            IsolationLevel level) {
        return OutputStore.loaded(connection.createStatement(query.apply(parameter(1))).bind(0, key.workflowId())
                        .execute(), key)
                .flatMap(loaded -> loaded.current() != null ? Mono.just(loaded) : begin(connection, level, false).thenReturn(loaded));
    }

    @Override
    public Mono<Void> insertAndCommit(Connection connection, String table, OutputRow row) {
        return OutputStore.insert(this, connection, table, row).then(Mono.from(connection.commitTransaction()));
    }

    /** MariaDB refuses LIMIT in an IN subquery, but limits a single-table DELETE itself. */
    @Override
    public String deleteBatch(String table, String condition, int limit) {
        return "DELETE FROM " + table + " WHERE " + condition + " LIMIT " + limit;
    }

    @Override
    public boolean isTransientConflict(R2dbcException error) {
        return "40001".equals(error.getSqlState()) || error.getErrorCode() == DEADLOCK
                || error.getErrorCode() == LOCK_WAIT_TIMEOUT;
    }
}
