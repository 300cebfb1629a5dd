package dev.txstep.internal;

import dev.txstep.IsolationLevel;
import dev.txstep.StepKey;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.Parameters;
import io.r2dbc.spi.R2dbcType;
import io.r2dbc.spi.Result;
import io.r2dbc.spi.Row;
import io.r2dbc.spi.Statement;
import java.util.BitSet;
import java.util.Optional;
import java.util.function.Function;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The SQL on {@code datasource_outputs}. Reads never run inside a SERIALIZABLE step transaction:
 * there a read would take a predicate lock that turns concurrent steps into serialization
 * failures. A single row is read on its own pooled connection in auto-commit mode; the
 * execution's recorded ids are read by its first step as it begins (see {@link #loadThenBegin}).
 */
public final class OutputStore {

    private final ConnectionFactory connections;
    private final Dialect dialect;
    private final String table;
    private final String selectRow;

    /**
     * @param connections where reads take their connections
     * @param dialect     the database's dialect
     * @param schema      a validated SQL identifier
     */
    public OutputStore(ConnectionFactory connections, Dialect dialect, String schema) {
        this.connections = connections;
        this.dialect = dialect;
        this.table = dialect.qualify(schema, "datasource_outputs");
        this.selectRow = "SELECT step_name, output, error, serialization, created_at FROM " + table
                + " WHERE workflow_id = " + dialect.parameter(1) + " AND step_id = " + dialect.parameter(2);
    }

    /**
     * On a connection of the caller's, for the first step of a workflow execution: the workflow's
     * recorded step ids, the step's own row if it is recorded, and the step's transaction begun
     * unless it is — in one round trip where the dialect can.
     */
    public Mono<LoadedSteps> loadThenBegin(Connection connection, StepKey key, IsolationLevel level) {
        return dialect.loadThenBegin(connection, workflowId -> loadQuery(key.stepId(), workflowId), key, level);
    }

    /**
     * Every recorded step id of a workflow, with the columns of one step's row (null on the other
     * rows, so a long workflow's outputs are not all sent).
     *
     * @param stepId     the step whose row is wanted
     * @param workflowId the workflow id as an SQL expression: a literal (PostgreSQL sends a statement
     *                   with bound parameters in a round trip of its own) or a parameter marker
     */
    String loadQuery(int stepId, String workflowId) {
        return "SELECT step_id, CASE WHEN step_id = " + stepId + " THEN step_name END, CASE WHEN step_id = " + stepId
                + " THEN output END, CASE WHEN step_id = " + stepId + " THEN error END, CASE WHEN step_id = " + stepId
                + " THEN serialization END, created_at FROM " + table + " WHERE workflow_id = " + workflowId;
    }

    /** Reads the results of {@link #loadQuery} (and any row-less results around it). */
    static Mono<LoadedSteps> loaded(Publisher<? extends Result> results, StepKey key) {
        BitSet ids = new BitSet();
        OutputRow[] current = new OutputRow[1];
        return Flux.from(results)
                .concatMap(result -> result.map((row, meta) -> {
                    int stepId = row.get(0, Integer.class);
                    ids.set(stepId);
                    if (stepId == key.stepId()) {
                        current[0] = outputRow(key, row, 1);
                    }
                    return stepId;
                }))
                .then(Mono.fromSupplier(() -> new LoadedSteps(ids, current[0])));
    }

    /** The recorded row of one step, or empty: one query, on subscribe. */
    public Mono<Optional<OutputRow>> find(StepKey key) {
        return Mono.usingWhen(connections.create(),
                c -> Flux.from(c.createStatement(selectRow).bind(0, key.workflowId()).bind(1, key.stepId()).execute())
                        .concatMap(result -> result.map((row, meta) -> outputRow(key, row, 0)))
                        .next()
                        .map(Optional::of)
                        .defaultIfEmpty(Optional.empty()),
                dialect::release);
    }

    /**
     * The row's columns step_name, output, error, serialization and created_at, read from column
     * {@code first} on: the one shape both {@link #find} and {@link #loadQuery} select.
     */
    private static OutputRow outputRow(StepKey key, Row row, int first) {
        return new OutputRow(key, row.get(first, String.class), row.get(first + 1, String.class),
                row.get(first + 2, String.class), row.get(first + 3, String.class), row.get(first + 4, Long.class));
    }

    /** Writes a row and commits the step's transaction on its connection. */
    public Mono<Void> insertAndCommit(Connection connection, OutputRow row) {
        return dialect.insertAndCommit(connection, table, row);
    }

    /**
     * Writes a row in a transaction of its own (an auto-committed insert), as for a step's error.
     * Emits true if written, false if a row for the key was already there.
     */
    public Mono<Boolean> insertAlone(OutputRow row) {
        return Mono.usingWhen(connections.create(),
                c -> insert(dialect, c, table, row).thenReturn(true)
                        .onErrorResume(Failures::isUniqueViolation, e -> Mono.just(false)),
                dialect::release);
    }

    /** A bound insert of a row on a connection, in whatever transaction it has. */
    static Mono<Void> insert(Dialect dialect, Connection connection, String table, OutputRow row) {
        StringBuilder values = new StringBuilder();
        for (int i = 1; i <= 7; i++) {
            values.append(i == 1 ? "" : ", ").append(dialect.parameter(i));
        }
        Statement statement = connection.createStatement("INSERT INTO " + table
                        + " (workflow_id, step_id, step_name, output, error, serialization, created_at)"
                        + " VALUES (" + values + ")")
                .bind(0, row.key().workflowId())
                .bind(1, row.key().stepId())
                .bind(2, row.stepName())
                .bind(3, textOrNull(row.output()))
                .bind(4, textOrNull(row.error()))
                .bind(5, textOrNull(row.serialization()))
                .bind(6, row.createdAt());
        return Flux.from(statement.execute()).concatMap(Result::getRowsUpdated).then();
    }

    /**
     * Deletes the rows created before {@code createdBefore} (epoch ms), {@code batch} rows per
     * statement, each statement its own short transaction on a pooled connection, until none is left.
     *
     * @return on subscribe, deletes; emits how many rows were deleted
     */
    public Mono<Long> deleteCreatedBefore(long createdBefore, int batch) {
        String sql = dialect.deleteBatch(table, "created_at < " + dialect.parameter(1), batch);
        return deleteInBatches(batch, c -> c.createStatement(sql).bind(0, createdBefore));
    }

    /**
     * Deletes every row of one workflow, up to {@code batch} rows per statement.
     *
     * @return on subscribe, deletes; emits how many rows were deleted
     */
    public Mono<Long> deleteWorkflow(String workflowId, int batch) {
        String sql = dialect.deleteBatch(table, "workflow_id = " + dialect.parameter(1), batch);
        return deleteInBatches(batch, c -> c.createStatement(sql).bind(0, workflowId));
    }

    /**
     * Deletes the row of one step.
     *
     * @return on subscribe, deletes; emits whether a row was there
     */
    public Mono<Boolean> deleteStep(StepKey key) {
        String sql = "DELETE FROM " + table + " WHERE workflow_id = " + dialect.parameter(1) + " AND step_id = "
                + dialect.parameter(2);
        return Mono.usingWhen(connections.create(),
                c -> Flux.from(c.createStatement(sql).bind(0, key.workflowId()).bind(1, key.stepId()).execute())
                        .concatMap(Result::getRowsUpdated).reduce(0L, Long::sum).map(deleted -> deleted > 0),
                dialect::release);
    }

    private Mono<Long> deleteInBatches(int batch, Function<Connection, Statement> statement) {
        Mono<Long> once = Mono.usingWhen(connections.create(),
                c -> Flux.from(statement.apply(c).execute()).concatMap(Result::getRowsUpdated).reduce(0L, Long::sum),
                dialect::release);
        // A full batch may leave more behind; a short one was the last.
        return once.expand(deleted -> deleted >= batch ? once : Mono.empty()).reduce(0L, Long::sum);
    }

    private static Object textOrNull(String value) {
        return value == null ? Parameters.in(R2dbcType.VARCHAR) : value;
    }
}
