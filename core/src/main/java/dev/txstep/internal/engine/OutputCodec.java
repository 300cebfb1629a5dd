package dev.txstep.internal.engine;

import dev.txstep.NonDeterminismException;
import dev.txstep.OutputSerializationException;
import dev.txstep.StepKey;
import dev.txstep.internal.Texts;
import dev.txstep.internal.store.OutputRow;
import dev.txstep.observe.StepOutcome;
import dev.txstep.serialization.Serializer;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;

/**
 * Turns a step's value into the text its row records, and a recorded row back into the step's
 * outcome: the name check, the recorded error raised again, the output deserialized with the
 * type the caller asked for.
 */
final class OutputCodec {

    private static final Logger LOG = LoggerFactory.getLogger(StepEngine.class);

    private final Serializer serializer;

    OutputCodec(Serializer serializer) {
        this.serializer = serializer;
    }

    /** The name recorded with every row this codec writes. */
    String serializerName() {
        return serializer.name();
    }

    /**
     * The recorded text of a step's value, or null for no value.
     *
     * @throws OutputSerializationException if the value cannot be serialized, or its text could not
     *                                      be stored as it is
     */
    String encode(StepKey key, Optional<Object> value) {
        if (value.isEmpty()) {
            return null;
        }
        String text;
        try {
            text = serializer.serialize(value.get());
        } catch (RuntimeException e) {
            throw new OutputSerializationException("the output of step " + key + " ("
                    + value.get().getClass().getName() + ") cannot be recorded, so the step was rolled back: "
                    + e.getMessage(), e);
        }
        // The recorded text must come back as it was written: NULL would replay as "no value", and
        // a NUL character or an unpaired surrogate is not stored as given.
        String unstorable = text == null ? null : Texts.unstorable(text);
        if (text == null || unstorable != null) {
            throw new OutputSerializationException("the output of step " + key + " ("
                    + value.get().getClass().getName() + ") cannot be recorded, so the step was rolled back: "
                    + (text == null ? "serializer '" + serializer.name() + "' returned null for it"
                            : "its serialized text contains " + unstorable + ", which a text column cannot store"));
        }
        return text;
    }

    /**
     * The outcome recorded in a row as the step's result, after checking that the row belongs to
     * this step: its value (empty for none), or an error — {@link NonDeterminismException} for
     * another step's name, the recorded error as a {@code RecordedStepException},
     * {@link OutputSerializationException} for an output this serializer cannot read.
     *
     * @param outcome how the row was obtained, for the step's report
     */
    Mono<StepResult> replay(OutputRow row, StepSpec spec, StepOutcome outcome) {
        return recordedValue(row, spec).map(value -> new StepResult(value, outcome));
    }

    private Mono<Optional<Object>> recordedValue(OutputRow row, StepSpec spec) {
        StepKey key = row.key();
        if (!row.stepName().equals(spec.name())) {
            LOG.warn("non-determinism: step {} recorded as '{}' replayed as '{}'", key, row.stepName(), spec.name());
            return Mono.error(new NonDeterminismException(key, row.stepName(), spec.name()));
        }
        if (row.error() != null) {
            return Mono.error(ErrorCodec.decode(key, row.error(), serializer::allowsRecordedType));
        }
        if (row.output() == null) {
            return Mono.just(Optional.empty());
        }
        if (!serializer.name().equals(row.serialization())) {
            return Mono.error(new OutputSerializationException("the output of step " + key + " was recorded by serializer '"
                    + row.serialization() + "' but this datasource uses '" + serializer.name() + "'"));
        }
        try {
            Object value = spec.type() == null ? serializer.deserialize(row.output())
                    : serializer.deserialize(row.output(), spec.type());
            return Mono.just(Optional.ofNullable(value));
        } catch (RuntimeException e) {
            return Mono.error(new OutputSerializationException("the recorded output of step " + key
                    + " cannot be read back: " + e.getMessage(), e));
        }
    }
}
