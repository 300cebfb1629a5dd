package dev.txstep;

/**
 * A datasource configuration that cannot work: a malformed or unsupported URL, a schema that is
 * not a plain SQL identifier, a pool size or retry setting out of range, a database txstep has no
 * dialect for. Raised by the configuration builder or by {@code create}, before anything is written.
 */
public class InvalidConfigurationException extends DatasourceException {

    private static final long serialVersionUID = 1L;

    /**
     * @param message what went wrong and what to do about it
     */
    public InvalidConfigurationException(String message) {
        super(message);
    }

    /**
     * @param message what went wrong and what to do about it
     * @param cause   the underlying failure
     */
    public InvalidConfigurationException(String message, Throwable cause) {
        super(message, cause);
    }
}
