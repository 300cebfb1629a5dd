package dev.txstep.internal.dialect;

import io.r2dbc.spi.R2dbcException;

/**
 * Reads what the database reported from a failure: the first {@link R2dbcException} with an
 * SQLSTATE in the cause chain (user code may wrap driver errors), judged by the dialect's codes.
 */
public final class DatabaseErrors {

    private static final int MAX_DEPTH = 16;

    private DatabaseErrors() {
    }

    /**
     * The first error in the cause chain that the database reported (one with an SQLSTATE).
     *
     * @param failure any failure
     * @return the reported error, or null
     */
    public static R2dbcException reported(Throwable failure) {
        Throwable t = failure;
        for (int depth = 0; t != null && depth < MAX_DEPTH; depth++, t = t.getCause()) {
            if (t instanceof R2dbcException r2dbc && r2dbc.getSqlState() != null && !r2dbc.getSqlState().isEmpty()) {
                return r2dbc;
            }
        }
        return null;
    }

    /**
     * The SQLSTATE the database reported.
     *
     * @param failure any failure
     * @return the SQLSTATE of {@link #reported}, or null
     */
    public static String sqlState(Throwable failure) {
        R2dbcException reported = reported(failure);
        return reported == null ? null : reported.getSqlState();
    }

    /**
     * Whether a failure is a unique-key violation, as the dialect's codes say.
     *
     * @param failure any failure
     * @param dialect the database's dialect
     * @return true for a duplicate key
     */
    public static boolean isUniqueViolation(Throwable failure, Dialect dialect) {
        R2dbcException reported = reported(failure);
        return reported != null && dialect.isUniqueViolation(reported);
    }

    /**
     * Whether a failure is an integrity-constraint violation (SQLSTATE class 23).
     *
     * @param failure any failure
     * @return true for an integrity violation
     */
    public static boolean isIntegrityViolation(Throwable failure) {
        String state = sqlState(failure);
        return state != null && state.startsWith("23");
    }

    /**
     * Whether the database refused what was sent, so that a transaction it was committing certainly
     * did not commit: an SQLSTATE the dialect calls a refusal, or a transient conflict. Anything else
     * during a commit (a lost connection, a shutdown, a driver error without SQLSTATE, 40003
     * "statement completion unknown") leaves the outcome unknown.
     *
     * @param failure any failure
     * @param dialect the database's dialect
     * @return true for a certain refusal
     */
    public static boolean isDefiniteRefusal(Throwable failure, Dialect dialect) {
        R2dbcException reported = reported(failure);
        return reported != null && (dialect.isTransientConflict(reported) || dialect.isRefusal(reported.getSqlState()));
    }
}
