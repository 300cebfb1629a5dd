package dev.txstep.internal;

import com.fasterxml.jackson.core.JacksonException;
import dev.txstep.DatasourceException;
import io.r2dbc.spi.R2dbcException;
import io.r2dbc.spi.R2dbcNonTransientResourceException;
import io.r2dbc.spi.R2dbcTransientException;
import java.io.IOException;
import java.util.Set;
import java.util.concurrent.TimeoutException;

/**
 * Classifies failures: which are worth retrying the whole step for, and which mean another
 * executor recorded the step first. Walks the cause chain, because user code may wrap driver
 * errors.
 */
public final class Failures {

    private static final int MAX_DEPTH = 16;

    /** SQLSTATE classes in which the database reports that it did not do what was asked. */
    private static final Set<String> REFUSAL_CLASSES = Set.of("0A", "21", "22", "23", "25", "27", "28", "2B", "2D",
            "40", "42", "44", "53", "54", "P0");

    private Failures() {
    }

    /**
     * Whether a failure of txstep's own work (acquiring a connection, beginning, committing,
     * reading the table) is transient: the step may succeed if run again in a new transaction on a
     * new connection.
     */
    public static boolean isRetryable(Throwable failure, Dialect dialect) {
        return isRetryable(failure, dialect, true);
    }

    /**
     * Whether an error raised by a step's function is transient. Only the database can say so
     * (a serialization failure, a deadlock, a lost connection, reported by the driver): the
     * function's own I/O errors and timeouts are its outcome, recorded, not retried.
     */
    public static boolean isRetryableFromFunction(Throwable failure, Dialect dialect) {
        return isRetryable(failure, dialect, false);
    }

    private static boolean isRetryable(Throwable failure, Dialect dialect, boolean ioCounts) {
        Throwable t = failure;
        for (int depth = 0; t != null && depth < MAX_DEPTH; depth++, t = t.getCause()) {
            if (t instanceof StepFailure) {
                // A failure already judged final (e.g. a function error that was recorded).
                return false;
            }
            if (t instanceof DatasourceException) {
                // txstep's own verdicts (a value that cannot be serialized, a replayed error, ...) are final.
                return false;
            }
            if (t instanceof R2dbcException r2dbc) {
                String state = r2dbc.getSqlState();
                if (state != null && !state.isEmpty()) {
                    // The database said what happened: that decides, whatever the exception's class.
                    return dialect.isTransientConflict(r2dbc) || (dialect.canLoseConnections() && isConnectionState(state));
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
    public static boolean isDefectOfCallingCode(Throwable error) {
        return error instanceof ClassCastException || error instanceof NullPointerException
                || error instanceof IndexOutOfBoundsException || error instanceof ArrayStoreException
                || error instanceof NegativeArraySizeException || error instanceof UnsupportedOperationException
                || error instanceof LinkageError;
    }

    /**
     * Whether the first database error in a failure's cause chain is a transient conflict
     * (serialization failure, deadlock, lock timeout) as the dialect judges it.
     */
    public static boolean isTransientConflict(Throwable failure, Dialect dialect) {
        R2dbcException reported = reported(failure);
        return reported != null && dialect.isTransientConflict(reported);
    }

    /**
     * Whether a failure is a unique-key violation: SQLSTATE 23505 (PostgreSQL, H2), or MariaDB's
     * and MySQL's error 1062, whose SQLSTATE (23000) covers every integrity violation.
     */
    public static boolean isUniqueViolation(Throwable failure) {
        R2dbcException reported = reported(failure);
        return reported != null && ("23505".equals(reported.getSqlState())
                || ("23000".equals(reported.getSqlState()) && reported.getErrorCode() == 1062));
    }

    /**
     * Whether the database refused what was sent, so that a transaction it was committing certainly
     * did not commit: it reported an SQLSTATE whose class means "not done" (data exception,
     * integrity violation, invalid transaction state, transaction rollback, syntax or access rule,
     * insufficient resources, program limit, a procedure's own error, ...) or one the dialect calls
     * a transient conflict. Anything else during a commit (a lost connection, a shutdown, a driver
     * error without SQLSTATE, PostgreSQL's 40003 "statement completion unknown") leaves the
     * outcome unknown.
     */
    public static boolean isDefiniteRefusal(Throwable failure, Dialect dialect) {
        R2dbcException reported = reported(failure);
        if (reported == null) {
            return false;
        }
        String state = reported.getSqlState();
        return dialect.isTransientConflict(reported)
                || (REFUSAL_CLASSES.contains(state.substring(0, Math.min(2, state.length()))) && !state.equals("40003"));
    }

    /** Whether a failure is an integrity-constraint violation (SQLSTATE class 23). */
    public static boolean isIntegrityViolation(Throwable failure) {
        String state = sqlState(failure);
        return state != null && state.startsWith("23");
    }

    /** The SQLSTATE of the first {@link R2dbcException} in the cause chain that has one, or null. */
    public static String sqlState(Throwable failure) {
        R2dbcException reported = reported(failure);
        return reported == null ? null : reported.getSqlState();
    }

    /** The first error in the cause chain that the database reported (one with an SQLSTATE), or null. */
    private static R2dbcException reported(Throwable failure) {
        Throwable t = failure;
        for (int depth = 0; t != null && depth < MAX_DEPTH; depth++, t = t.getCause()) {
            if (t instanceof R2dbcException r2dbc && r2dbc.getSqlState() != null && !r2dbc.getSqlState().isEmpty()) {
                return r2dbc;
            }
        }
        return null;
    }

    private static boolean isConnectionState(String state) {
        // 08: connection exception, except 08P01, a protocol violation: what was sent is malformed,
        // and sending it again fails the same way. 57P01..57P03: admin shutdown, crash shutdown,
        // cannot connect now; 53300: too many connections.
        return (state.startsWith("08") && !state.equals("08P01")) || state.equals("57P01") || state.equals("57P02")
                || state.equals("57P03") || state.equals("53300");
    }
}
