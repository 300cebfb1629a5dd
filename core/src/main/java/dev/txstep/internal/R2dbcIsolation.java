package dev.txstep.internal;

import dev.txstep.IsolationLevel;

/** Maps txstep's isolation levels to R2DBC's. */
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
}
