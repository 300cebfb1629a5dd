package dev.txstep.observe;

import dev.txstep.StepKey;
import java.time.Duration;

/**
 * One finished step, as reported to a {@link StepObserver}.
 *
 * @param stepName the step's name
 * @param key      the step's key in its workflow, or null for a step outside a workflow or a
 *                 read-only step (neither is recorded)
 * @param outcome  how it ended
 * @param attempts how many attempts it took (1 unless a transient failure was retried)
 * @param duration from subscription to the end, retries and backoff included
 * @param error    the error it ended with, for {@link StepOutcome#FAILED}; else null
 */
public record StepEvent(String stepName, StepKey key, StepOutcome outcome, int attempts, Duration duration,
        Throwable error) {
}
