package dev.txstep;

/**
 * A step kept failing for a retryable reason (serialization failure, deadlock, lost connection)
 * until its {@link RetryPolicy} ran out. Nothing is recorded: an infrastructure failure is not the
 * step's outcome, so running the workflow again runs the step again. {@link #getCause()} is the
 * last failure.
 */
public class RetriesExhaustedException extends DatasourceException {

    private static final long serialVersionUID = 1L;

    /** Attempts made. */
    private final int attempts;

    /**
     * @param step     the step's key or name, for the message
     * @param attempts how many attempts were made
     * @param cause    the last attempt's failure
     */
    public RetriesExhaustedException(String step, int attempts, Throwable cause) {
        super("step " + step + " failed " + attempts + " times with retryable errors and was given up;"
                + " nothing was recorded, so running the workflow again runs it again. Last failure: "
                + cause, cause);
        this.attempts = attempts;
    }

    /** @return the number of attempts made */
    public int attempts() {
        return attempts;
    }
}
