package dev.txstep;

/**
 * A call with an argument txstep cannot accept: a null function, a blank or over-long workflow
 * id, a blank step name, an unknown isolation level, a null SQL parameter without a type, a step
 * function whose publisher emitted more than one value. Nothing is written to the database.
 */
public class InvalidInputException extends DatasourceException {

    private static final long serialVersionUID = 1L;

    /**
     * @param message what went wrong and what to do about it
     */
    public InvalidInputException(String message) {
        super(message);
    }

    /**
     * @param message what went wrong and what to do about it
     * @param cause   the underlying failure
     */
    public InvalidInputException(String message, Throwable cause) {
        super(message, cause);
    }
}
