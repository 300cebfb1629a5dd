package dev.txstep.internal;

import dev.txstep.IsolationLevel;

/**
 * A step's resolved options.
 *
 * @param name  the recorded name, never null
 * @param level the isolation level, never null
 * @param type     the type a replayed output must have, or null for any
 * @param readOnly whether the step runs in a read-only transaction and records nothing
 */
public record StepSpec(String name, IsolationLevel level, Class<?> type, boolean readOnly) {
}
