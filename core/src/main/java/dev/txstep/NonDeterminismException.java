package dev.txstep;

/**
 * A replayed step does not match what was recorded for its key: the workflow did not run the same
 * steps in the same order as its earlier execution. Nothing was run. Typical causes: the workflow's
 * code changed while it was in flight, or steps were started in an order that depends on timing
 * (e.g. {@code flatMap} over steps whose subscription order varies).
 */
public class NonDeterminismException extends DatasourceException {

    private static final long serialVersionUID = 1L;

    /** The key both steps claim. */
    private final transient StepKey key;
    /** The recorded name. */
    private final String recordedName;
    /** The replayed name. */
    private final String requestedName;

    /**
     * @param key           the step's key
     * @param recordedName  the name recorded for the key
     * @param requestedName the name of the step that now claims the key
     */
    public NonDeterminismException(StepKey key, String recordedName, String requestedName) {
        super("step " + key + " was recorded as '" + recordedName + "' but is now replayed as '"
                + requestedName + "': the workflow must run the same steps in the same order when it is"
                + " replayed; nothing was run");
        this.key = key;
        this.recordedName = recordedName;
        this.requestedName = requestedName;
    }

    /** @return the key both steps claim */
    public StepKey key() {
        return key;
    }

    /** @return the name recorded for the key */
    public String recordedName() {
        return recordedName;
    }

    /** @return the name of the step that was replayed */
    public String requestedName() {
        return requestedName;
    }
}
