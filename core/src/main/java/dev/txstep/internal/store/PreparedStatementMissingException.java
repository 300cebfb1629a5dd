package dev.txstep.internal.store;

/**
 * A step's message executed one of txstep's prepared statements and the server did not have it
 * (see {@link PreparedStatements}). Nothing of the attempt committed: the transaction it ran in
 * failed on that statement. The step is worth attempting again, and the store no longer sends
 * prepared statements.
 */
public final class PreparedStatementMissingException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    PreparedStatementMissingException(Throwable cause) {
        super("a prepared statement of txstep's was missing on the connection; the attempt failed before"
                + " committing and is retried unprepared", cause);
    }
}
