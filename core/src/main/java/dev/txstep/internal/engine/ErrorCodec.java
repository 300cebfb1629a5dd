package dev.txstep.internal.engine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.txstep.OutputSerializationException;
import dev.txstep.RecordedStepException;
import dev.txstep.StepKey;
import java.lang.reflect.Constructor;
import java.util.function.Predicate;

/**
 * Writes a step's error as {@code {"type": "...", "message": "..."}} and raises it again on replay.
 * Independent of the output serializer: an exception is recorded by its type name and message
 * only, never by its fields, so reading it back can instantiate nothing but a throwable of a
 * trusted type, with a message.
 */
final class ErrorCodec {

    private static final ObjectMapper JSON = new ObjectMapper();

    private ErrorCodec() {
    }

    /** The recorded text of an error. */
    static String encode(Throwable error) {
        ObjectNode node = JSON.createObjectNode();
        node.put("type", error.getClass().getName());
        node.put("message", error.getMessage());
        return node.toString();
    }

    /**
     * The exception to raise for a recorded error: always a {@link RecordedStepException} with the
     * recorded type's name and message, and an instance of that type as its cause when
     * {@code mayRebuild} trusts the type (rows come from the database: see
     * {@code Serializer.allowsRecordedType}) and it is a {@code Throwable} with a public
     * {@code (String)} constructor.
     */
    static RecordedStepException decode(StepKey key, String text, Predicate<String> mayRebuild) {
        String type;
        String message;
        try {
            JsonNode node = JSON.readTree(text);
            type = node.path("type").asText(null);
            message = node.hasNonNull("message") ? node.get("message").asText() : null;
        } catch (Exception e) {
            throw new OutputSerializationException("recorded error of step " + key + " is not readable: " + e.getMessage(), e);
        }
        if (type == null) {
            throw new OutputSerializationException("recorded error of step " + key + " names no type: " + text);
        }
        return new RecordedStepException(key, type, message, mayRebuild.test(type) ? restore(type, message) : null);
    }

    private static Throwable restore(String type, String message) {
        try {
            Class<?> cls = Class.forName(type, false, ErrorCodec.class.getClassLoader());
            if (!Throwable.class.isAssignableFrom(cls)) {
                return null;
            }
            Constructor<?> constructor = cls.getConstructor(String.class);
            return (Throwable) constructor.newInstance(message);
        } catch (ReflectiveOperationException | LinkageError | RuntimeException e) {
            return null;
        }
    }
}
