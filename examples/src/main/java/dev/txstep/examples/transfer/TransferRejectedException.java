package dev.txstep.examples.transfer;

/**
 * A transfer the bank refuses: an unknown account or insufficient funds. Raised inside the
 * {@code transfer} step, so its transaction rolls back and txstep records the refusal; a retry
 * with the same key gets the same refusal without running the step again (wrapped in a
 * {@code RecordedStepException} whose cause is a new instance of this class, rebuilt through the
 * public {@code (String)} constructor).
 */
public class TransferRejectedException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /**
     * @param message why, for the client
     */
    public TransferRejectedException(String message) {
        super(message);
    }
}
