package dev.txstep;

/**
 * A blocking call of {@link BlockingDatasource} or {@link BlockingTxSession} was made on a
 * non-blocking thread (a Reactor or Netty event loop), where it would stall every connection that
 * thread serves. Use {@link AsyncDatasource} from reactive code.
 */
public class BlockingCallException extends DatasourceException {

    private static final long serialVersionUID = 1L;

    /**
     * @param message what went wrong and what to do about it
     */
    public BlockingCallException(String message) {
        super(message);
    }

    /**
     * @param message what went wrong and what to do about it
     * @param cause   the underlying failure
     */
    public BlockingCallException(String message, Throwable cause) {
        super(message, cause);
    }
}
