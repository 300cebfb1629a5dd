package dev.txstep.internal.engine;

import dev.txstep.internal.dialect.DatabaseErrors;
import dev.txstep.observe.StepEvent;
import dev.txstep.observe.StepObserver;
import dev.txstep.observe.StepOutcome;
import dev.txstep.observe.StepStart;
import java.time.Duration;
import java.util.function.Consumer;
import reactor.util.context.ContextView;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells how steps end and when they are retried: one DEBUG line per step (logger
 * {@code dev.txstep.internal.engine.StepEngine}) and the configured {@link StepObserver}. An
 * observer that throws is logged and ignored: reporting never changes a step's outcome.
 */
final class StepReporter {

    private static final Logger LOG = LoggerFactory.getLogger(StepEngine.class);

    private final StepObserver observer;

    StepReporter(StepObserver observer) {
        this.observer = observer;
    }

    /**
     * A step was subscribed: the datasource's observer chooses who hears how this one step goes
     * ({@link StepObserver#stepStarted}), which {@link #finished} and {@link #retried} then tell.
     */
    void started(StepRun run, StepSpec spec, ContextView context) {
        if (observer == StepObserver.NONE) {
            return;
        }
        run.observer = observer;
        try {
            StepObserver stepObserver = observer.stepStarted(
                    new StepStart(run.name, run.key, spec.level(), spec.readOnly()), context);
            if (stepObserver != null) {
                run.observer = stepObserver;
            } else {
                LOG.warn("the step observer returned no observer for step '{}'; the datasource's observer hears it",
                        run.name);
            }
        } catch (RuntimeException e) {
            LOG.warn("the step observer failed; ignored", e);
        }
    }

    /** A step ended, with {@code error} if it failed. */
    void finished(StepRun run, StepOutcome outcome, Throwable error) {
        Duration duration = Duration.ofNanos(System.nanoTime() - run.startNanos);
        if (LOG.isDebugEnabled()) {
            Object where = run.key != null ? run.key : "(unrecorded)";
            LOG.debug("step '{}' {} {} after {} attempt(s) in {} ms{}", run.name, where, outcome, run.attempts,
                    duration.toMillis(), error == null ? "" : ": " + error.getClass().getName());
        }
        if (run.observer != StepObserver.NONE) {
            tell(run.observer, o -> o.stepFinished(new StepEvent(run.name, run.key, outcome, run.attempts, duration, error)));
        }
    }

    /** An attempt failed transiently and the step will be attempted again. */
    void retried(StepRun run, Throwable error) {
        if (run.observer != StepObserver.NONE) {
            tell(run.observer, o -> o.stepRetried(run.name, DatabaseErrors.sqlState(error)));
        }
    }

    private static void tell(StepObserver stepObserver, Consumer<StepObserver> call) {
        try {
            call.accept(stepObserver);
        } catch (RuntimeException e) {
            LOG.warn("the step observer failed; ignored", e);
        }
    }
}
