package dev.txstep.serialization;

import dev.txstep.OutputSerializationException;
import dev.txstep.RecordedStepException;

/**
 * Turns step outputs into the text recorded in {@code datasource_outputs.output} and back.
 *
 * <p>Implement {@link #serialize} and at least one of the two {@code deserialize} methods (each
 * defaults to the other). {@link #deserialize(String)} is used when the caller did not say what
 * type the output has: the text must then describe its own types, and because it is read from the
 * database, an implementation must refuse to instantiate types it was not told to trust.
 * {@link #deserialize(String, Class)} is used when the caller gave the output's type
 * ({@code runTxStepAsync(options, Type.class, fn)}).
 *
 * <p>Implementations are thread-safe. They may throw any runtime exception; txstep reports it as
 * an {@link OutputSerializationException} naming the step.
 *
 * @see JacksonSerializer the default
 */
public interface Serializer {

    /**
     * Serializes a step's output.
     *
     * @param value the output, never null (a null output is recorded as SQL NULL without calling
     *              the serializer)
     * @return the text to record
     */
    String serialize(Object value);

    /**
     * Restores an output from its recorded text, with no help from the caller. Defaults to
     * {@code deserialize(text, Object.class)}.
     *
     * @param text the recorded text, never null
     * @return an equal value of the type that was serialized
     */
    default Object deserialize(String text) {
        return deserialize(text, Object.class);
    }

    /**
     * Restores an output of a known type from its recorded text. Defaults to
     * {@link #deserialize(String)} followed by a type check.
     *
     * @param text the recorded text, never null
     * @param type the type the caller expects
     * @param <T>  the type
     * @return an equal value of that type
     */
    default <T> T deserialize(String text, Class<T> type) {
        Object value = deserialize(text);
        if (value != null && !type.isInstance(value)) {
            throw new OutputSerializationException("recorded output is a " + value.getClass().getName() + ", not a "
                    + type.getName());
        }
        return type.cast(value);
    }

    /**
     * Whether a recorded row may make txstep load and instantiate the named class. A replayed error
     * is raised as a {@link RecordedStepException} carrying the recorded type's name and message;
     * only when this answers {@code true} is an instance of that type (built by its public
     * {@code (String)} constructor) attached as the cause. Rows are read from the database, so
     * anyone who can write to the table could otherwise have any class on the class path loaded and
     * initialized. Defaults to the JDK's own classes ({@code java.*}).
     *
     * @param className the binary name recorded in the row
     * @return whether the class may be loaded and instantiated
     */
    default boolean allowsRecordedType(String className) {
        return className.startsWith("java.");
    }

    /**
     * The name recorded in the {@code serialization} column of each row this serializer writes,
     * e.g. {@code "jackson"}; rows written under another name are not read by this serializer.
     * Defaults to the implementing class's name: override it with a short, stable name.
     *
     * @return the serializer's name
     */
    default String name() {
        return getClass().getName();
    }
}
