package dev.txstep;

/**
 * A step's output could not be turned into its recorded text, or recorded text could not be turned
 * back into a value: the value's type is not serializable, the serializer threw, the recorded text
 * is corrupt, the recorded row names a type the serializer does not allow, or the row was written
 * by a different serializer. When writing, the step's transaction is rolled back and nothing is
 * recorded.
 */
public class OutputSerializationException extends DatasourceException {

    private static final long serialVersionUID = 1L;

    /**
     * @param message what went wrong and what to do about it
     */
    public OutputSerializationException(String message) {
        super(message);
    }

    /**
     * @param message what went wrong and what to do about it
     * @param cause   the serializer's failure
     */
    public OutputSerializationException(String message, Throwable cause) {
        super(message, cause);
    }
}
