package dev.txstep.bench;

import dev.txstep.serialization.JacksonSerializer;
import java.util.Random;

/**
 * What a step returns and records for a given {@link Setting#outputBytes()}, so that the txstep
 * variants and the limit variant write the same bytes into {@code datasource_outputs.output}.
 *
 * <p>The serialized text is computed once, here, with txstep's own default serializer (the one the
 * benchmark's datasources use), so the limit variant writes exactly what txstep writes without
 * running txstep code per operation. {@value Setting#DEFAULT_OUTPUT_BYTES} stands for the
 * transfer's natural output (its row count, which the default serializer writes with its type:
 * {@code ["java.lang.Long",1]}); sizes are a string of letters and digits chosen
 * at random once (fixed seed): nothing for JSON to escape, no {@code $} to collide with a dollar-quote
 * tag, and not compressible by PostgreSQL's TOAST, so large outputs cost the server what their size
 * says.
 */
final class StepOutputs {

    private static final String ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

    private final Object value;
    private final String serialized;

    private StepOutputs(Object value, String serialized) {
        this.value = value;
        this.serialized = serialized;
    }

    /**
     * @param outputBytes the serialized length wanted
     * @return the value and its serialized text
     * @throws IllegalStateException if the serializer's framing of a string is longer than asked for
     */
    static StepOutputs of(int outputBytes) {
        JacksonSerializer serializer = JacksonSerializer.create();
        if (outputBytes == Setting.DEFAULT_OUTPUT_BYTES) {
            Long count = 1L;
            return new StepOutputs(count, serializer.serialize(count));
        }
        int framing = serializer.serialize("").length();
        if (outputBytes < framing) {
            throw new IllegalStateException("an output of " + outputBytes + " bytes is shorter than an empty string's "
                    + framing);
        }
        Random random = new Random(outputBytes);
        StringBuilder text = new StringBuilder(outputBytes - framing);
        for (int i = 0; i < outputBytes - framing; i++) {
            text.append(ALPHABET.charAt(random.nextInt(ALPHABET.length())));
        }
        String string = text.toString();
        String serialized = serializer.serialize(string);
        if (serialized.length() != outputBytes) {
            throw new IllegalStateException("serialized output is " + serialized.length() + " bytes, wanted "
                    + outputBytes);
        }
        return new StepOutputs(string, serialized);
    }

    /** @return what the step's function returns: the row count (a Long) or a String */
    Object value() {
        return value;
    }

    /** @return the value as txstep's default serializer writes it */
    String serialized() {
        return serialized;
    }
}
