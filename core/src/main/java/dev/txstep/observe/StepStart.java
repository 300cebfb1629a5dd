package dev.txstep.observe;

import dev.txstep.IsolationLevel;
import dev.txstep.StepKey;

/**
 * A step that was just subscribed, as reported to {@link StepObserver#stepStarted(StepStart,
 * reactor.util.context.ContextView)}: what is known of it before it takes a connection.
 *
 * @param stepName  the step's name
 * @param key       the step's key in its workflow, or null for a step that is not recorded
 *                  (outside a workflow, or read-only)
 * @param isolation the isolation level its transaction runs at, never null
 * @param readOnly  whether it runs in a read-only transaction (and records nothing)
 */
public record StepStart(String stepName, StepKey key, IsolationLevel isolation, boolean readOnly) {
}
