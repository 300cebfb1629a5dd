package dev.txstep.micrometer;

import dev.txstep.StepKey;
import dev.txstep.observe.StepEvent;
import dev.txstep.observe.StepObserver;
import dev.txstep.observe.StepStart;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationRegistry;
import io.micrometer.observation.contextpropagation.ObservationThreadLocalAccessor;
import java.util.Objects;
import reactor.util.context.Context;
import reactor.util.context.ContextView;

/**
 * Makes each step a Micrometer {@link Observation} named {@code txstep.step}, so that the
 * registry's handlers turn it into what they make: with Micrometer Tracing's handler, a span; with
 * a meter handler, a timer. The observation's parent is the caller's current observation, found
 * in the Reactor context the step is subscribed with ({@link ObservationThreadLocalAccessor#KEY},
 * where WebFlux and Reactor's context propagation put it), else the registry's current one. The
 * step's function runs with the step's observation as the current one, so observations (spans) of
 * its own work are children of the step's. Each retried attempt is an {@link Observation.Event}
 * named {@code txstep.step.retry}; a failed step's error is the observation's error. Names and
 * keys: {@link DefaultStepObservationConvention}, {@link StepObservationKeys}.
 *
 * <pre>{@code
 * DatasourceConfig.builder().url(url)
 *     .observer(StepObserver.composite(
 *         new MicrometerStepObserver(meterRegistry),
 *         new ObservationStepObserver(observationRegistry)))
 *     .build();
 * }</pre>
 *
 * <p>Needs {@code io.micrometer:micrometer-observation} on the class path; txstep does not bring it.
 */
public final class ObservationStepObserver implements StepObserver {

    /** The name of the event each retried attempt adds to the step's observation. */
    public static final String RETRY_EVENT = "txstep.step.retry";

    private static final StepObservationConvention DEFAULT_CONVENTION = new DefaultStepObservationConvention();

    private final ObservationRegistry registry;
    private final StepObservationConvention convention;

    /**
     * Observes steps in a registry, with the default convention (or one registered with the registry).
     *
     * @param registry where the observations go
     */
    public ObservationStepObserver(ObservationRegistry registry) {
        this(registry, null);
    }

    /**
     * Observes steps in a registry, with a convention of one's own.
     *
     * @param registry   where the observations go
     * @param convention names and tags the observations; null for the default (or one registered
     *                   with the registry)
     */
    public ObservationStepObserver(ObservationRegistry registry, StepObservationConvention convention) {
        this.registry = Objects.requireNonNull(registry, "registry");
        this.convention = convention;
    }

    @Override
    public StepObserver stepStarted(String stepName, StepKey key, ContextView context) {
        // Only an engine older than StepStart calls this; the transaction's settings are unknown.
        return this;
    }

    @Override
    public StepObserver stepStarted(StepStart start, ContextView context) {
        StepObservationContext stepContext = new StepObservationContext(start);
        Observation observation = Observation.createNotStarted(convention, DEFAULT_CONVENTION, () -> stepContext,
                registry);
        if (observation.isNoop()) {
            return this; // nothing listens: this observer's own methods do nothing
        }
        Observation parent = context.getOrDefault(ObservationThreadLocalAccessor.KEY, null);
        observation.parentObservation(parent != null ? parent : registry.getCurrentObservation());
        return new StepObservation(observation.start(), stepContext);
    }

    /** The observation of one step, from its start to its end. */
    private static final class StepObservation implements StepObserver {

        private final Observation observation;
        private final StepObservationContext context;

        StepObservation(Observation observation, StepObservationContext context) {
            this.observation = observation;
            this.context = context;
        }

        @Override
        public Context stepContext(Context functionContext) {
            return functionContext.put(ObservationThreadLocalAccessor.KEY, observation);
        }

        @Override
        public void stepRetried(String stepName, String sqlState) {
            observation.event(Observation.Event.of(RETRY_EVENT,
                    "retried after SQLSTATE " + (sqlState == null ? "none" : sqlState)));
        }

        @Override
        public void stepFinished(StepEvent event) {
            context.setEvent(event);
            if (event.error() != null) {
                observation.error(event.error());
            }
            observation.stop();
        }
    }
}
