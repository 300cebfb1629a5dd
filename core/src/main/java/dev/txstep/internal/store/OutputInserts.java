package dev.txstep.internal.store;

import dev.txstep.internal.dialect.Dialect;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.Parameters;
import io.r2dbc.spi.R2dbcType;
import io.r2dbc.spi.Statement;

/**
 * The INSERT of an output row, written once: with bound values, or with literal values for a
 * driver that sends it in the same message as {@code COMMIT} (see
 * {@link Dialect#sendsStatementsWithTransactionControl()}).
 */
final class OutputInserts {

    private final Dialect dialect;
    private final String prefix;
    private final String bound;

    OutputInserts(Dialect dialect, String table) {
        this.dialect = dialect;
        this.prefix = "INSERT INTO " + table
                + " (workflow_id, step_id, step_name, output, error, serialization, created_at) VALUES (";
        StringBuilder markers = new StringBuilder(prefix);
        for (int i = 1; i <= 7; i++) {
            markers.append(i == 1 ? "" : ", ").append(dialect.parameter(i));
        }
        this.bound = markers.append(')').toString();
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
        String output = row.output();
        // Sized once: the output dominates, and a growing builder would copy it several times.
        return new StringBuilder(prefix.length() + 160 + (output == null ? 0 : output.length()))
                .append(prefix)
                .append(dialect.literal(row.key().workflowId())).append(", ").append(row.key().stepId()).append(", ")
                .append(dialect.literal(row.stepName())).append(", ").append(dialect.literal(output)).append(", ")
                .append(dialect.literal(row.error())).append(", ").append(dialect.literal(row.serialization()))
                .append(", ").append(row.createdAt()).append(')')
                .toString();
    }

    private static Object textOrNull(String value) {
        return value == null ? Parameters.in(R2dbcType.VARCHAR) : value;
    }
}
