package dev.txstep.internal.store;

import dev.txstep.IsolationLevel;
import dev.txstep.StepKey;
import dev.txstep.internal.dialect.DatabaseErrors;
import dev.txstep.internal.dialect.Dialect;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.Result;
import io.r2dbc.spi.Statement;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Every statement on {@code datasource_outputs}: the first step's load of a workflow's recorded
 * ids, a step's row, the output insert (alone, or with the commit), the readiness probe and the
 * deletes of retention. The dialect answers how to write them; the statements are here.
 *
 * <p>Reads never run inside a SERIALIZABLE step transaction: there a read would take a predicate
 * lock that turns concurrent steps into serialization failures. A single row is read on its own
 * pooled connection in auto-commit mode; the execution's recorded ids are read by its first step
 * as it begins (see {@link #loadThenBegin}).
 *
 * <p>Every method is lazy, and every connection it takes from the pool goes back on success,
 * error and cancellation.
 */
public final class OutputStore {

    private final ConnectionFactory connections;
    private final Dialect dialect;
    private final String table;
    private final String selectRow;
    private final String deleteRow;
    private final String probe;
    private final OutputInserts inserts;
    private final String loadName;
    private final PreparedStatements prepared;

    /**
     * @param connections where the store's own statements take their connections
     * @param dialect     the database's dialect
     * @param schema      a validated SQL identifier
     */
    public OutputStore(ConnectionFactory connections, Dialect dialect, String schema) {
        this.connections = connections;
        this.dialect = dialect;
        this.table = dialect.qualify(schema, "datasource_outputs");
        String thisStep = " WHERE workflow_id = " + dialect.parameter(1) + " AND step_id = " + dialect.parameter(2);
        this.selectRow = "SELECT " + OutputRows.COLUMNS + " FROM " + table + thisStep;
        this.deleteRow = "DELETE FROM " + table + thisStep;
        this.probe = "SELECT COUNT(*) FROM " + table + " WHERE 1 = 0";
        this.inserts = new OutputInserts(dialect, table, PreparedStatements.name(table, "insert"));
        this.loadName = PreparedStatements.name(table, "load");
        this.prepared = new PreparedStatements(dialect, List.of(
                new PreparedStatements.Statement(loadName, List.of("text", "integer"),
                        loadQuery(dialect.parameter(2), dialect.parameter(1))),
                new PreparedStatements.Statement(inserts.preparedName(), OutputInserts.PARAMETER_TYPES, inserts.boundSql())));
    }

    /**
     * Whether to {@link #prepare} an attempt's connection before its step begins (see
     * {@link PreparedStatements}); counts the connection as seen.
     *
     * @param connection the attempt's connection, idle
     * @return true if {@link #prepare} is worth its round trip now
     */
    public boolean shouldPrepare(Connection connection) {
        return prepared.shouldPrepare(connection);
    }

    /**
     * Prepares the store's statements on an idle connection, outside any transaction.
     *
     * @param connection the attempt's connection, idle
     * @return on subscribe, prepares; never errors (a failure only means steps go unprepared)
     */
    public Mono<Void> prepare(Connection connection) {
        return prepared.prepare(connection);
    }

    /**
     * For the first step of a workflow execution, on the step's own idle connection: reads the
     * workflow's recorded step ids with the step's own row, and begins the step's transaction at
     * {@code level} unless the row is there — in one round trip where the dialect can send a
     * statement with {@code BEGIN} and the level lets the read run inside the transaction. If the
     * row is there, a transaction may be open or not: rolling back is harmless.
     *
     * @param connection the step's connection, idle
     * @param key        the loading step
     * @param level      the step's isolation level
     * @return on subscribe, loads (and begins); errors with the driver's exception
     */
    public Mono<LoadedSteps> loadThenBegin(Connection connection, StepKey key, IsolationLevel level) {
        // At READ COMMITTED and REPEATABLE READ a read takes no predicate locks, so it may run inside
        // the step's transaction (at REPEATABLE READ it takes the snapshot the step's first statement
        // would have taken a moment later). At SERIALIZABLE it must stay outside: it gets a READ
        // COMMITTED READ ONLY transaction of its own, committed before the step's BEGIN, in the same
        // message (a read placed before the BEGIN without a transaction of its own would run in the
        // implicit transaction that BEGIN then makes explicit). If the step turns out recorded, its
        // transaction is open and rolling it back is harmless.
        if (dialect.sendsStatementsWithTransactionControl()) {
            boolean ready = prepared.ready(connection);
            String load = ready
                    ? dialect.executeStatement(loadName, dialect.literal(key.workflowId()) + ", " + key.stepId())
                    : loadQuery(Integer.toString(key.stepId()), dialect.literal(key.workflowId()));
            List<String> message = level == IsolationLevel.SERIALIZABLE
                    ? List.of(dialect.beginStatement(IsolationLevel.READ_COMMITTED, true), load, dialect.commitStatement(),
                            dialect.beginStatement(level, false))
                    : List.of(dialect.beginStatement(level, false), load);
            Mono<LoadedSteps> loaded = LoadedSteps.read(dialect.executeTogether(connection, message), key);
            return ready ? loaded.onErrorMap(prepared::onExecutionError) : loaded;
        }
        return LoadedSteps.read(loadStatement(connection, key).execute(), key)
                .flatMap(loaded -> loaded.current() != null ? Mono.just(loaded)
                        : dialect.begin(connection, level, false).thenReturn(loaded));
    }

    /**
     * The load as a statement of its own: with the workflow id as a literal where the driver would
     * spend a round trip on a bound parameter, else bound.
     */
    private Statement loadStatement(Connection connection, StepKey key) {
        if (dialect.sendsStatementsWithTransactionControl()) {
            return connection.createStatement(loadQuery(Integer.toString(key.stepId()), dialect.literal(key.workflowId())));
        }
        return connection.createStatement(loadQuery(Integer.toString(key.stepId()), dialect.parameter(1)))
                .bind(0, key.workflowId());
    }

    /**
     * Every recorded step id of a workflow, with the columns of one step's row (null on the other
     * rows, so a long workflow's outputs are not all sent).
     *
     * @param stepId     the step whose row is wanted, as an SQL expression: a number or a parameter marker
     * @param workflowId the workflow id as an SQL expression: a literal or a parameter marker
     */
    private String loadQuery(String stepId, String workflowId) {
        return "SELECT step_id, CASE WHEN step_id = " + stepId + " THEN step_name END, CASE WHEN step_id = " + stepId
                + " THEN output END, CASE WHEN step_id = " + stepId + " THEN error END, CASE WHEN step_id = " + stepId
                + " THEN serialization END, created_at FROM " + table + " WHERE workflow_id = " + workflowId;
    }

    /**
     * The recorded row of one step: one query on a pooled connection, outside any transaction.
     *
     * @param key the step
     * @return on subscribe, reads; emits the row, or empty if the step is not recorded
     */
    public Mono<Optional<OutputRow>> find(StepKey key) {
        return withConnection(c -> Flux.from(c.createStatement(selectRow).bind(0, key.workflowId())
                        .bind(1, key.stepId()).execute())
                .concatMap(result -> result.map((row, meta) -> OutputRows.read(key, row, 0)))
                .next()
                .map(Optional::of)
                .defaultIfEmpty(Optional.empty()));
    }

    /**
     * Writes a step's row and commits the step's transaction on its connection: in one round trip
     * where the dialect sends statements with {@code COMMIT} and the output is short enough for a
     * literal ({@link OutputInserts#fitsLiteral}), else as a bound INSERT and then the
     * {@code COMMIT}.
     *
     * <p>The {@code COMMIT} after a bound INSERT is subscribed once the INSERT has answered. (The
     * driver would hold it back anyway: it writes nothing behind an extended-protocol exchange until
     * that exchange is answered, which is also what keeps an INSERT that it re-prepares and resends,
     * after the server lost its cached statement, inside the step's transaction.)
     *
     * @param connection the step's connection, in its transaction
     * @param row        the step's output row
     * @return on subscribe, inserts and commits; errors with the driver's exception if either fails
     *         (a unique violation when another executor recorded the step first), the transaction
     *         then still open or aborted, to be rolled back by the caller
     */
    public Mono<Void> insertAndCommit(Connection connection, OutputRow row) {
        if (dialect.sendsStatementsWithTransactionControl() && inserts.fitsLiteral(row)) {
            if (prepared.ready(connection)) {
                return rowsUpdated(dialect.executeTogether(connection, List.of(inserts.executed(row), dialect.commitStatement())))
                        .onErrorMap(prepared::onExecutionError);
            }
            return rowsUpdated(dialect.executeTogether(connection, List.of(inserts.literal(row), dialect.commitStatement())));
        }
        return rowsUpdated(inserts.bound(connection, row).execute()).then(Mono.from(connection.commitTransaction()));
    }

    /**
     * Writes a row in a transaction of its own (an auto-committed insert), as for a step's error.
     *
     * @param row the row
     * @return on subscribe, inserts; emits true if written, false if a row for the key was already there
     */
    public Mono<Boolean> insertAlone(OutputRow row) {
        return withConnection(c -> rowsUpdated(inserts.bound(c, row).execute()).thenReturn(true)
                .onErrorResume(e -> DatabaseErrors.isUniqueViolation(e, dialect), e -> Mono.just(false)));
    }

    /**
     * Whether the database answers and the table is there: one query that reads no row.
     *
     * @return on subscribe, probes on a pooled connection; completes if the table answered, else
     *         errors with the driver's exception (unreachable, or no such table)
     */
    public Mono<Void> probe() {
        return withConnection(c -> Flux.from(c.createStatement(probe).execute())
                .concatMap(result -> result.map((row, meta) -> row.get(0)))
                .then());
    }

    /**
     * Deletes the rows created before {@code createdBefore}, {@code batch} rows per statement, each
     * statement its own short transaction on a pooled connection, until none is left.
     *
     * @param createdBefore epoch milliseconds
     * @param batch         rows per statement
     * @return on subscribe, deletes; emits how many rows were deleted
     */
    public Mono<Long> deleteCreatedBefore(long createdBefore, int batch) {
        String sql = deleteBatch("created_at < " + dialect.parameter(1), batch);
        return deleteInBatches(batch, c -> c.createStatement(sql).bind(0, createdBefore));
    }

    /**
     * Deletes every row of one workflow, up to {@code batch} rows per statement.
     *
     * @param workflowId the workflow
     * @param batch      rows per statement
     * @return on subscribe, deletes; emits how many rows were deleted
     */
    public Mono<Long> deleteWorkflow(String workflowId, int batch) {
        String sql = deleteBatch("workflow_id = " + dialect.parameter(1), batch);
        return deleteInBatches(batch, c -> c.createStatement(sql).bind(0, workflowId));
    }

    /**
     * Deletes the row of one step.
     *
     * @param key the step
     * @return on subscribe, deletes; emits whether a row was there
     */
    public Mono<Boolean> deleteStep(StepKey key) {
        return withConnection(c -> sumOfRowsUpdated(c.createStatement(deleteRow).bind(0, key.workflowId())
                .bind(1, key.stepId())).map(deleted -> deleted > 0));
    }

    /**
     * A statement deleting at most {@code limit} rows that match {@code condition}: where the
     * database cannot limit a DELETE, the batch's keys are selected in a limited subquery.
     */
    private String deleteBatch(String condition, int limit) {
        if (dialect.limitsDeleteItself()) {
            return "DELETE FROM " + table + " WHERE " + condition + dialect.rowLimit(limit);
        }
        return "DELETE FROM " + table + " WHERE (workflow_id, step_id) IN (SELECT workflow_id, step_id FROM " + table
                + " WHERE " + condition + dialect.rowLimit(limit) + ")";
    }

    private Mono<Long> deleteInBatches(int batch, Function<Connection, Statement> statement) {
        Mono<Long> once = withConnection(c -> sumOfRowsUpdated(statement.apply(c)));
        // A full batch may leave more behind; a short one was the last.
        return once.expand(deleted -> deleted >= batch ? once : Mono.empty()).reduce(0L, Long::sum);
    }

    /** Runs work on a pooled connection of the store's own, released however the work ends. */
    private <T> Mono<T> withConnection(Function<Connection, Mono<T>> work) {
        return Mono.usingWhen(connections.create(), work, dialect::release);
    }

    private static Mono<Long> sumOfRowsUpdated(Statement statement) {
        return Flux.from(statement.execute()).concatMap(Result::getRowsUpdated).reduce(0L, Long::sum);
    }

    private static Mono<Void> rowsUpdated(Publisher<? extends Result> results) {
        return Flux.from(results).concatMap(Result::getRowsUpdated).then();
    }
}
