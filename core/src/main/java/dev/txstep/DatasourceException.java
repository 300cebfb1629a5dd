package dev.txstep;

/**
 * The base of every error txstep raises itself. Unchecked.
 *
 * <p>Errors of the step's own function are not wrapped on a first execution: the function's
 * exception reaches the caller as it was thrown. Subclasses name each failure txstep can report.
 */
public class DatasourceException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /**
     * @param message what went wrong and what to do about it
     */
    public DatasourceException(String message) {
        super(message);
    }

    /**
     * @param message what went wrong and what to do about it
     * @param cause   the underlying failure
     */
    public DatasourceException(String message, Throwable cause) {
        super(message, cause);
    }
}
