package dev.txstep.internal.engine;

import com.fasterxml.jackson.core.JacksonException;
import dev.txstep.DatasourceException;
import dev.txstep.internal.dialect.Dialect;
import dev.txstep.internal.store.PreparedStatementMissingException;
import io.r2dbc.spi.R2dbcException;
import io.r2dbc.spi.R2dbcNonTransientResourceException;
import io.r2dbc.spi.R2dbcTransientException;
import java.io.IOException;
import java.util.concurrent.TimeoutException;

/**
 * Decides which failures are worth running the whole step again for, and which are defects of the
 * calling code rather than a step's outcome. Walks the cause chain, because user code may wrap
 * driver errors; what an SQLSTATE or error code means is the dialect's answer.
 */
final class Failures {

    private static final int MAX_DEPTH = 16;

    private Failures() {
    }

    /**
     * Whether a failure of txstep's own work (acquiring a connection, beginning, committing,
     * reading the table) is transient: the step may succeed if run again in a new transaction on a
     * new connection.
     */
    static boolean isRetryable(Throwable failure, Dialect dialect) {
        return isRetryable(failure, dialect, true);
    }

    /**
     * Whether an error raised by a step's function is transient. Only the database can say so
     * (a serialization failure, a deadlock, a lost connection, reported by the driver): the
     * function's own I/O errors and timeouts are its outcome, recorded, not retried.
     */
    static boolean isRetryableFromFunction(Throwable failure, Dialect dialect) {
        return isRetryable(failure, dialect, false);
    }

    private static boolean isRetryable(Throwable failure, Dialect dialect, boolean ioCounts) {
        Throwable t = failure;
        for (int depth = 0; t != null && depth < MAX_DEPTH; depth++, t = t.getCause()) {
            if (t instanceof StepFailure) {
                // A failure already judged final (e.g. a function error that was recorded).
                return false;
            }
            if (t instanceof PreparedStatementMissingException) {
                // The attempt failed before committing; the next one runs unprepared.
                return true;
            }
            if (t instanceof DatasourceException) {
                // txstep's own verdicts (a value that cannot be serialized, a replayed error, ...) are final.
                return false;
            }
            if (t instanceof R2dbcException r2dbc) {
                String state = r2dbc.getSqlState();
                if (state != null && !state.isEmpty()) {
                    // The database said what happened: that decides, whatever the exception's class.
                    return dialect.isTransientConflict(r2dbc)
                            || (dialect.canLoseConnections() && dialect.isLostConnection(state));
                }
                // No SQLSTATE: a lost or refused connection ("connection closed", a socket error while
                // the server restarts), or a driver-side timeout — where there is a connection to lose.
                if (dialect.canLoseConnections()
                        && (t instanceof R2dbcTransientException || t instanceof R2dbcNonTransientResourceException)) {
                    return true;
                }
            }
            if (ioCounts && dialect.canLoseConnections() && (t instanceof TimeoutException
                    || (t instanceof IOException && !(t instanceof JacksonException)))) {
                return true;
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return false;
    }

    /**
     * Whether a function's error says its code is wrong rather than that the world said no: a
     * {@code ClassCastException}, {@code NullPointerException}, index out of bounds, array store,
     * negative array size, {@code UnsupportedOperationException} or a {@code LinkageError}, raised
     * as such (not as the cause of an exception the code chose to throw). Such an error is not a
     * step's outcome: it is not recorded, so the code can be fixed and the workflow run again.
     */
    static boolean isDefectOfCallingCode(Throwable error) {
        return error instanceof ClassCastException || error instanceof NullPointerException
                || error instanceof IndexOutOfBoundsException || error instanceof ArrayStoreException
                || error instanceof NegativeArraySizeException || error instanceof UnsupportedOperationException
                || error instanceof LinkageError;
    }
}
