package dev.txstep.internal.store;

import dev.txstep.StepKey;
import io.r2dbc.spi.Row;

/** How a row of {@code datasource_outputs} is read back: the one shape every read selects. */
final class OutputRows {

    /** The columns of a step's outcome, in the order {@link #read} expects them. */
    static final String COLUMNS = "step_name, output, error, serialization, created_at";

    private OutputRows() {
    }

    /**
     * The step's row from the {@link #COLUMNS} selected from column {@code first} on.
     *
     * @param key   the step the row belongs to
     * @param row   a result row
     * @param first the index of {@code step_name}
     */
    static OutputRow read(StepKey key, Row row, int first) {
        return new OutputRow(key, row.get(first, String.class), row.get(first + 1, String.class),
                row.get(first + 2, String.class), row.get(first + 3, String.class), row.get(first + 4, Long.class));
    }
}
