package dev.txstep;

/**
 * {@code sqlSession()} was called where no transaction step of this datasource is running.
 * Call it from inside the function passed to {@code runTxStepAsync}/{@code runTxStep} or a
 * {@code transaction(...)} wrapper (for reactive code: in a publisher subscribed inside it).
 */
public class NoTransactionException extends DatasourceException {

    private static final long serialVersionUID = 1L;

    /**
     * @param message what went wrong and what to do about it
     */
    public NoTransactionException(String message) {
        super(message);
    }

    /**
     * @param message what went wrong and what to do about it
     * @param cause   the underlying failure
     */
    public NoTransactionException(String message, Throwable cause) {
        super(message, cause);
    }
}
