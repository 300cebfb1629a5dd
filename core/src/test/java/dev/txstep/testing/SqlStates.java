package dev.txstep.testing;

import io.r2dbc.spi.R2dbcException;

/** What a test reads from a failure the database reported: its SQLSTATE, and whether it is a duplicate key. */
public final class SqlStates {

    private SqlStates() {
    }

    /**
     * @param failure any failure
     * @return the SQLSTATE of the first {@link R2dbcException} with one in the cause chain, or null
     */
    public static String sqlState(Throwable failure) {
        R2dbcException reported = reported(failure);
        return reported == null ? null : reported.getSqlState();
    }

    /**
     * @param failure any failure
     * @return whether the database reported a unique-key violation: SQLSTATE 23505 (PostgreSQL, H2),
     *         or MariaDB's error 1062 (SQLSTATE 23000)
     */
    public static boolean isUniqueViolation(Throwable failure) {
        R2dbcException reported = reported(failure);
        return reported != null && ("23505".equals(reported.getSqlState())
                || ("23000".equals(reported.getSqlState()) && reported.getErrorCode() == 1062));
    }

    private static R2dbcException reported(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof R2dbcException r2dbc && r2dbc.getSqlState() != null && !r2dbc.getSqlState().isEmpty()) {
                return r2dbc;
            }
        }
        return null;
    }
}
