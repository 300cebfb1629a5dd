package dev.txstep;

/**
 * Turns step outputs into the text recorded in {@code datasource_outputs.output} and back.
 *
 * <p>A recorded value must come back as an equal value of the same type, with no help from the
 * caller: the text must describe its own types. Deserialization reads text from the database, so
 * an implementation must refuse to instantiate types it was not told to trust.
 *
 * <p>Implementations are thread-safe. They may throw any runtime exception; txstep reports it as
 * an {@link OutputSerializationException} naming the step.
 *
 * @see JacksonSerializer the default
 */
public interface Serializer {

    /**
     * The name recorded in the {@code serialization} column of each row this serializer writes,
     * e.g. {@code "jackson"}. Rows written under another name are not read by this serializer.
     *
     * @return a short, stable name
     */
    String name();

    /**
     * Serializes a step's output.
     *
     * @param value the output, never null (a null output is recorded as SQL NULL without calling
     *              the serializer)
     * @return the text to record
     */
    String serialize(Object value);

    /**
     * Restores an output from its recorded text.
     *
     * @param text the recorded text, never null
     * @return an equal value of the type that was serialized
     */
    Object deserialize(String text);
}
