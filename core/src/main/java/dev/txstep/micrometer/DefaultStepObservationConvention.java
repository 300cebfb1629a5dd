package dev.txstep.micrometer;

import dev.txstep.StepKey;
import dev.txstep.observe.StepEvent;
import dev.txstep.observe.StepStart;
import io.micrometer.common.KeyValues;
import java.util.Locale;

/**
 * The default {@link StepObservationConvention}: the observation is named {@code txstep.step},
 * its contextual name (a span's name) is {@code txstep <step name>}, and it carries the
 * {@link StepObservationKeys}.
 */
public class DefaultStepObservationConvention implements StepObservationConvention {

    /** The observation's name. */
    public static final String NAME = "txstep.step";

    /** Creates the convention. */
    public DefaultStepObservationConvention() {
    }

    @Override
    public String getName() {
        return NAME;
    }

    @Override
    public String getContextualName(StepObservationContext context) {
        return "txstep " + context.getStart().stepName();
    }

    @Override
    public KeyValues getLowCardinalityKeyValues(StepObservationContext context) {
        StepStart start = context.getStart();
        StepEvent event = context.getEvent();
        // Read at start and again at stop: the outcome is only known at stop.
        String outcome = event == null ? "unknown" : event.outcome().name().toLowerCase(Locale.ROOT);
        return KeyValues.of(
                StepObservationKeys.STEP_NAME.withValue(start.stepName()),
                StepObservationKeys.OUTCOME.withValue(outcome),
                StepObservationKeys.ISOLATION.withValue(start.isolation().name()),
                StepObservationKeys.READ_ONLY.withValue(Boolean.toString(start.readOnly())));
    }

    @Override
    public KeyValues getHighCardinalityKeyValues(StepObservationContext context) {
        StepKey key = context.getStart().key();
        if (key == null) {
            return KeyValues.empty();
        }
        return KeyValues.of(
                StepObservationKeys.WORKFLOW_ID.withValue(key.workflowId()),
                StepObservationKeys.STEP_ID.withValue(Integer.toString(key.stepId())));
    }
}
