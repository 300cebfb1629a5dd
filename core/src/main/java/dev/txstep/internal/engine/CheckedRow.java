package dev.txstep.internal.engine;

import dev.txstep.InvalidInputException;
import io.r2dbc.spi.Row;
import io.r2dbc.spi.RowMetadata;

/**
 * The row a query's mapper receives from a step's session. A column that cannot be read as asked
 * (a type the driver cannot decode it to, an index or name the row does not have) is a defect of
 * the step's code, not the step's outcome: it is raised as an {@link InvalidInputException} naming
 * the column, the type and the statement, which is never recorded — so the fixed code runs when
 * the workflow runs again — and never retried.
 */
final class CheckedRow implements Row {

    private final Row row;
    private final String sql;

    CheckedRow(Row row, String sql) {
        this.row = row;
        this.sql = sql;
    }

    @Override
    public RowMetadata getMetadata() {
        return row.getMetadata();
    }

    @Override
    public <T> T get(int index, Class<T> type) {
        try {
            return row.get(index, type);
        } catch (RuntimeException e) {
            throw unreadable("column " + index, type, e);
        }
    }

    @Override
    public <T> T get(String name, Class<T> type) {
        try {
            return row.get(name, type);
        } catch (RuntimeException e) {
            throw unreadable("column '" + name + "'", type, e);
        }
    }

    private InvalidInputException unreadable(String column, Class<?> type, RuntimeException cause) {
        return new InvalidInputException(column + " of '" + sql + "' cannot be read as " + type.getName() + ": "
                + cause.getMessage() + ". A defect of the step's code is not recorded as its outcome: fix the code"
                + " and run the workflow again", cause);
    }
}
