package dev.txstep.micrometer;

import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationConvention;

/**
 * Names and tags the {@code txstep.step} observation of a step; implement it to change the keys
 * (give it to {@link ObservationStepObserver#ObservationStepObserver(io.micrometer.observation.ObservationRegistry,
 * StepObservationConvention)}, or register it as a global convention of the registry).
 * {@link DefaultStepObservationConvention} is the default.
 */
public interface StepObservationConvention extends ObservationConvention<StepObservationContext> {

    @Override
    default boolean supportsContext(Observation.Context context) {
        return context instanceof StepObservationContext;
    }
}
