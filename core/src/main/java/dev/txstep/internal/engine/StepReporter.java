package dev.txstep.internal.engine;

import dev.txstep.internal.dialect.DatabaseErrors;
import dev.txstep.observe.StepEvent;
import dev.txstep.observe.StepObserver;
import dev.txstep.observe.StepOutcome;
import java.time.Duration;
import java.util.function.Consumer;
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

    /** A step ended, with {@code error} if it failed. */
    void finished(StepRun run, StepOutcome outcome, Throwable error) {
        Duration duration = Duration.ofNanos(System.nanoTime() - run.startNanos);
        if (LOG.isDebugEnabled()) {
            Object where = run.key != null ? run.key : "(unrecorded)";
            LOG.debug("step '{}' {} {} after {} attempt(s) in {} ms{}", run.name, where, outcome, run.attempts,
                    duration.toMillis(), error == null ? "" : ": " + error.getClass().getName());
        }
        if (observer != StepObserver.NONE) {
            tell(o -> o.stepFinished(new StepEvent(run.name, run.key, outcome, run.attempts, duration, error)));
        }
    }

    /** An attempt failed transiently and the step will be attempted again. */
    void retried(StepRun run, Throwable error) {
        if (observer != StepObserver.NONE) {
            tell(o -> o.stepRetried(run.name, DatabaseErrors.sqlState(error)));
        }
    }

    private void tell(Consumer<StepObserver> call) {
        try {
            call.accept(observer);
        } catch (RuntimeException e) {
            LOG.warn("the step observer failed; ignored", e);
        }
    }
}
