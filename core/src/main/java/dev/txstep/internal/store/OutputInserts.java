package dev.txstep.internal.store;

import dev.txstep.internal.dialect.Dialect;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.Parameters;
import io.r2dbc.spi.R2dbcType;
import io.r2dbc.spi.Statement;
import java.util.List;

/**
 * The INSERT of an output row, written once: with bound values, or with literal values for a
 * driver that sends it in the same message as {@code COMMIT} (see
 * {@link Dialect#sendsStatementsWithTransactionControl()}).
 *
 * <p>A literal saves the round trip of a separate {@code COMMIT}, but both ends pay for its length:
 * the client builds it and the driver scans it for parameter markers, and the server parses it. A
 * bound value is copied once into the message and not parsed at all. Measured side by side on
 * PostgreSQL (BENCHMARKS.md), the literal is as fast or faster up to 4 KiB, the two are level at
 * 16 KiB where the literal allocates four times more, and the bound insert is faster beyond: outputs
 * of {@link #BOUND_FROM_CHARS} characters or more are bound.
 */
final class OutputInserts {

    /**
     * The serialized output length from which the row is bound even where a literal could travel
     * with {@code COMMIT}: between 4 KiB, where the literal measured as fast or faster, and 16 KiB,
     * where the two measured level.
     */
    static final int BOUND_FROM_CHARS = 8 * 1024;

    /** The SQL types of {@link #boundSql()}'s parameters, in order, as PostgreSQL names them. */
    static final List<String> PARAMETER_TYPES = List.of("text", "integer", "text", "text", "text", "text", "bigint");

    private final Dialect dialect;
    private final String prefix;
    private final String bound;
    private final String preparedName;

    /**
     * @param preparedName the name the insert is prepared under where the dialect prepares statements
     */
    OutputInserts(Dialect dialect, String table, String preparedName) {
        this.dialect = dialect;
        this.preparedName = preparedName;
        this.prefix = "INSERT INTO " + table
                + " (workflow_id, step_id, step_name, output, error, serialization, created_at) VALUES (";
        StringBuilder markers = new StringBuilder(prefix);
        for (int i = 1; i <= 7; i++) {
            markers.append(i == 1 ? "" : ", ").append(dialect.parameter(i));
        }
        this.bound = markers.append(')').toString();
    }

    /** The insert with parameter markers, as bound and as prepared. */
    String boundSql() {
        return bound;
    }

    /** The name the insert is prepared under. */
    String preparedName() {
        return preparedName;
    }

    /**
     * Whether the row's output is short enough to travel as a literal (see {@link #BOUND_FROM_CHARS}).
     */
    boolean fitsLiteral(OutputRow row) {
        return length(row.output()) < BOUND_FROM_CHARS;
    }

    /** The insert with its values bound, on a connection, in whatever transaction it has. */
    Statement bound(Connection connection, OutputRow row) {
        return connection.createStatement(bound)
                .bind(0, row.key().workflowId())
                .bind(1, row.key().stepId())
                .bind(2, row.stepName())
                .bind(3, textOrNull(row.output()))
                .bind(4, textOrNull(row.error()))
                .bind(5, textOrNull(row.serialization()))
                .bind(6, row.createdAt());
    }

    /** The insert with its values as the dialect's literals; integers are formatted by Java. */
    String literal(OutputRow row) {
        return values(new StringBuilder(prefix.length() + 160 + length(row.output())).append(prefix), row)
                .append(')').toString();
    }

    /** The execution of the prepared insert with the row's values as literals (see {@link PreparedStatements}). */
    String executed(OutputRow row) {
        return dialect.executeStatement(preparedName, values(new StringBuilder(160 + length(row.output())), row).toString());
    }

    /** Appends the row's values, comma-separated. Callers size the builder once: the output dominates. */
    private StringBuilder values(StringBuilder sql, OutputRow row) {
        return sql.append(dialect.literal(row.key().workflowId())).append(", ").append(row.key().stepId()).append(", ")
                .append(dialect.literal(row.stepName())).append(", ").append(dialect.literal(row.output())).append(", ")
                .append(dialect.literal(row.error())).append(", ").append(dialect.literal(row.serialization()))
                .append(", ").append(row.createdAt());
    }

    private static int length(String text) {
        return text == null ? 0 : text.length();
    }

    private static Object textOrNull(String value) {
        return value == null ? Parameters.in(R2dbcType.VARCHAR) : value;
    }
}
