package dev.txstep;

import dev.txstep.serialization.JacksonSerializer;
import dev.txstep.serialization.Serializer;

/**
 * The error a step raised when it first ran, raised again on replay without running the step.
 *
 * <p>The original exception's type name and message are kept; {@link #getCause()} is a new
 * instance of the original type when the datasource's serializer trusts that type
 * ({@link Serializer#allowsRecordedType}: the JDK's classes, and the packages and types allowed in
 * {@link JacksonSerializer}'s builder) and it is on the class path, is a {@link Throwable} and has
 * a public {@code (String)} constructor, else null.
 */
public class RecordedStepException extends DatasourceException {

    private static final long serialVersionUID = 1L;

    /** The failed step's key. */
    private final transient StepKey key;
    /** The original exception's class name. */
    private final String errorType;
    /** The original message. */
    private final String errorMessage;

    /**
     * @param key          the step's key
     * @param errorType    the class name of the original exception
     * @param errorMessage the original message, possibly null
     * @param cause        the restored original exception, or null
     */
    public RecordedStepException(StepKey key, String errorType, String errorMessage, Throwable cause) {
        super("step " + key + " failed when it first ran and is not run again: " + errorType
                + (errorMessage == null ? "" : ": " + errorMessage), cause);
        this.key = key;
        this.errorType = errorType;
        this.errorMessage = errorMessage;
    }

    /** @return the key of the failed step */
    public StepKey key() {
        return key;
    }

    /** @return the fully qualified class name of the original exception */
    public String errorType() {
        return errorType;
    }

    /** @return the original exception's message, possibly null */
    public String errorMessage() {
        return errorMessage;
    }
}
