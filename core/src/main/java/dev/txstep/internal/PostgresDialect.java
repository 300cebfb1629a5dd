package dev.txstep.internal;

import dev.txstep.IsolationLevel;
import dev.txstep.StepKey;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.R2dbcException;
import io.r2dbc.spi.Result;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Function;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * PostgreSQL. The output row and {@code COMMIT} go out as one simple-protocol message (an R2DBC
 * {@code Batch}): r2dbc-postgresql waits for the reply of every statement that has bound
 * parameters, so sending the row as bound parameters would cost a round trip of its own. The
 * row's values therefore travel as literals, dollar-quoted with a random tag that does not occur
 * in the value — which is safe whatever {@code standard_conforming_strings} says.
 */
final class PostgresDialect implements Dialect {

    static final PostgresDialect INSTANCE = new PostgresDialect();

    private PostgresDialect() {
    }

    @Override
    public String migrationFolder() {
        return "postgresql";
    }

    @Override
    public Mono<Void> begin(Connection connection, IsolationLevel level, boolean readOnly) {
        return Mono.from(connection.beginTransaction(R2dbcIsolation.definition(level, readOnly)));
    }

    /**
     * At READ COMMITTED and REPEATABLE READ, one message: {@code BEGIN ISOLATION LEVEL …; SELECT …}
     * — a read at those levels takes no predicate locks, so it may run inside the step's
     * transaction (at REPEATABLE READ it takes the snapshot the step's first statement would have
     * taken a moment later). At SERIALIZABLE the read must stay outside the transaction, and it
     * cannot share a message with the {@code BEGIN}: PostgreSQL runs the statements of one message
     * before a {@code BEGIN} in the transaction that {@code BEGIN} opens ("SET TRANSACTION
     * ISOLATION LEVEL must be called before any query"). So it goes first, as a message of its own,
     * and the {@code BEGIN} follows only if the step is not recorded.
     */
    @Override
    public Mono<LoadedSteps> loadThenBegin(Connection connection, Function<String, String> query, StepKey key,
            IsolationLevel level) {
        String select = query.apply(literal(key.workflowId()));
        if (level == IsolationLevel.SERIALIZABLE) {
            return OutputStore.loaded(connection.createStatement(select).execute(), key)
                    .flatMap(loaded -> loaded.current() != null ? Mono.just(loaded)
                            : begin(connection, level, false).thenReturn(loaded));
        }
        return OutputStore.loaded(connection.createBatch().add("BEGIN ISOLATION LEVEL " + level.sql()).add(select)
                .execute(), key);
    }

    @Override
    public Mono<Void> insertAndCommit(Connection connection, String table, OutputRow row) {
        String prefix = "INSERT INTO " + table
                + " (workflow_id, step_id, step_name, output, error, serialization, created_at) VALUES (";
        String output = row.output();
        // Sized once: the output dominates, and a growing builder would copy it several times.
        StringBuilder insert = new StringBuilder(prefix.length() + 160 + (output == null ? 0 : output.length()))
                .append(prefix)
                .append(literal(row.key().workflowId())).append(", ").append(row.key().stepId()).append(", ")
                .append(literal(row.stepName())).append(", ").append(literal(output)).append(", ")
                .append(literal(row.error())).append(", ").append(literal(row.serialization())).append(", ")
                .append(row.createdAt()).append(')');
        return Flux.from(connection.createBatch().add(insert.toString()).add("COMMIT").execute())
                .concatMap(Result::getRowsUpdated)
                .then();
    }

    @Override
    public boolean isTransientConflict(R2dbcException error) {
        // 40001 serialization failure, 40P01 deadlock detected.
        String state = error.getSqlState();
        return "40001".equals(state) || "40P01".equals(state);
    }


    /**
     * A text value as a dollar-quoted literal, or {@code NULL}. The tag is random and checked not
     * to occur in the value, so no content can end the literal early.
     */
    static String literal(String value) {
        if (value == null) {
            return "NULL";
        }
        String tag;
        do {
            tag = "$t" + Long.toHexString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE) + "$";
        } while (value.contains(tag));
        return tag + value + tag;
    }
}
