package dev.txstep;

/**
 * The datasource was closed: it accepts no new steps. Steps that were running when it was closed
 * finish normally.
 */
public class DatasourceClosedException extends DatasourceException {

    private static final long serialVersionUID = 1L;

    /**
     * @param message what went wrong and what to do about it
     */
    public DatasourceClosedException(String message) {
        super(message);
    }

    /**
     * @param message what went wrong and what to do about it
     * @param cause   the underlying failure
     */
    public DatasourceClosedException(String message, Throwable cause) {
        super(message, cause);
    }
}
