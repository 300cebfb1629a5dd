package dev.txstep.micrometer;

import dev.txstep.observe.StepEvent;
import dev.txstep.observe.StepStart;
import io.micrometer.observation.Observation;
import java.util.Objects;

/**
 * What a {@link StepObservationConvention} reads to name and tag the observation of one step: the
 * step as it started and, once it has finished, how it ended.
 */
public class StepObservationContext extends Observation.Context {

    private final StepStart start;
    private volatile StepEvent event;

    /**
     * A context for one step.
     *
     * @param start the step's name, key and transaction settings
     */
    public StepObservationContext(StepStart start) {
        this.start = Objects.requireNonNull(start, "start");
    }

    /**
     * The step as it was subscribed.
     *
     * @return its name, key, isolation level and read-only flag
     */
    public StepStart getStart() {
        return start;
    }

    /**
     * How the step ended.
     *
     * @return its outcome, attempts, duration and error; null while it runs
     */
    public StepEvent getEvent() {
        return event;
    }

    /**
     * Records how the step ended; the observer calls it just before it stops the observation.
     *
     * @param event how the step ended
     */
    public void setEvent(StepEvent event) {
        this.event = event;
    }
}
