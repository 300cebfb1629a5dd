package dev.txstep.internal;

import dev.txstep.StepKey;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.Parameters;
import io.r2dbc.spi.R2dbcType;
import io.r2dbc.spi.Result;
import io.r2dbc.spi.Statement;
import java.util.BitSet;
import java.util.Optional;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The SQL on {@code datasource_outputs}. Reads run outside any step transaction, on their own
 * pooled connection in auto-commit mode: reading the table inside a SERIALIZABLE step would take
 * a predicate lock that turns concurrent steps into serialization failures.
 */
public final class OutputStore {

    private final ConnectionFactory connections;
    private final Dialect dialect;
    private final String table;
    private final String selectIds;
    private final String selectRow;

    /**
     * @param connections where reads take their connections
     * @param dialect     the database's dialect
     * @param schema      a validated SQL identifier
     */
    public OutputStore(ConnectionFactory connections, Dialect dialect, String schema) {
        this.connections = connections;
        this.dialect = dialect;
        this.table = "\"" + schema + "\".datasource_outputs";
        this.selectIds = "SELECT step_id FROM " + table + " WHERE workflow_id = $1";
        this.selectRow = "SELECT step_name, output, error, serialization, created_at FROM " + table
                + " WHERE workflow_id = $1 AND step_id = $2";
    }

    /** The quoted, schema-qualified table name. */
    public String table() {
        return table;
    }

    /** The ids of the steps recorded for a workflow: one query, on subscribe. */
    public Mono<BitSet> recordedStepIds(String workflowId) {
        return Mono.usingWhen(connections.create(),
                c -> Flux.from(c.createStatement(selectIds).bind(0, workflowId).execute())
                        .concatMap(result -> result.map((row, meta) -> row.get(0, Integer.class)))
                        .collect(BitSet::new, BitSet::set),
                dialect::release);
    }

    /** The recorded row of one step, or empty: one query, on subscribe. */
    public Mono<Optional<OutputRow>> find(StepKey key) {
        return Mono.usingWhen(connections.create(),
                c -> Flux.from(c.createStatement(selectRow).bind(0, key.workflowId()).bind(1, key.stepId()).execute())
                        .concatMap(result -> result.map((row, meta) -> new OutputRow(key,
                                row.get(0, String.class), row.get(1, String.class), row.get(2, String.class),
                                row.get(3, String.class), row.get(4, Long.class))))
                        .next()
                        .map(Optional::of)
                        .defaultIfEmpty(Optional.empty()),
                dialect::release);
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
                c -> insert(c, table, row).thenReturn(true)
                        .onErrorResume(Failures::isUniqueViolation, e -> Mono.just(false)),
                dialect::release);
    }

    /** A bound insert of a row on a connection, in whatever transaction it has. */
    static Mono<Void> insert(Connection connection, String table, OutputRow row) {
        Statement statement = connection.createStatement("INSERT INTO " + table
                        + " (workflow_id, step_id, step_name, output, error, serialization, created_at)"
                        + " VALUES ($1, $2, $3, $4, $5, $6, $7)")
                .bind(0, row.key().workflowId())
                .bind(1, row.key().stepId())
                .bind(2, row.stepName())
                .bind(3, textOrNull(row.output()))
                .bind(4, textOrNull(row.error()))
                .bind(5, textOrNull(row.serialization()))
                .bind(6, row.createdAt());
        return Flux.from(statement.execute()).concatMap(Result::getRowsUpdated).then();
    }

    private static Object textOrNull(String value) {
        return value == null ? Parameters.in(R2dbcType.VARCHAR) : value;
    }
}
