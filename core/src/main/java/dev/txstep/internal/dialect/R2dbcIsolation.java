package dev.txstep.internal.dialect;

import dev.txstep.IsolationLevel;
import io.r2dbc.spi.Option;
import io.r2dbc.spi.TransactionDefinition;

/** Maps txstep's isolation levels, and read-only transactions, to R2DBC's transaction definitions. */
final class R2dbcIsolation {

    private R2dbcIsolation() {
    }

    static io.r2dbc.spi.IsolationLevel definition(IsolationLevel level) {
        return switch (level) {
            case SERIALIZABLE -> io.r2dbc.spi.IsolationLevel.SERIALIZABLE;
            case REPEATABLE_READ -> io.r2dbc.spi.IsolationLevel.REPEATABLE_READ;
            case READ_COMMITTED -> io.r2dbc.spi.IsolationLevel.READ_COMMITTED;
        };
    }

    /** A transaction at a level, read-only or not: what {@code Connection.beginTransaction} takes. */
    static TransactionDefinition definition(IsolationLevel level, boolean readOnly) {
        io.r2dbc.spi.IsolationLevel isolation = definition(level);
        if (!readOnly) {
            return isolation;
        }
        return new TransactionDefinition() {
            @Override
            @SuppressWarnings("unchecked")
            public <T> T getAttribute(Option<T> option) {
                if (option.equals(TransactionDefinition.ISOLATION_LEVEL)) {
                    return (T) isolation;
                }
                if (option.equals(TransactionDefinition.READ_ONLY)) {
                    return (T) Boolean.TRUE;
                }
                return null;
            }
        };
    }
}
