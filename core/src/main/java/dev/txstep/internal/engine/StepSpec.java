package dev.txstep.internal.engine;

import dev.txstep.DatasourceOptions;
import dev.txstep.IsolationLevel;
import java.util.function.Supplier;

/**
 * A step's resolved options: what the engine runs. Every entry point of the API builds it with
 * {@link #resolve}, so an option added to {@link DatasourceOptions} reaches every entry point
 * through that one function, or none.
 *
 * @param name     the recorded name, never null
 * @param level    the isolation level, never null
 * @param type     the type a replayed output must have, or null for any
 * @param readOnly whether the step runs in a read-only transaction and records nothing
 */
public record StepSpec(String name, IsolationLevel level, Class<?> type, boolean readOnly) {

    /**
     * Resolves the options a caller gave.
     *
     * @param options     the caller's options, or null for all defaults
     * @param type        the type a replayed output must have, or null for any
     * @param defaultName the name of the declaring method (see {@link StepNames#ofCaller()}), asked
     *                    for only when the options name no step: finding it walks the stack
     * @return the step's spec
     */
    public static StepSpec resolve(DatasourceOptions options, Class<?> type, Supplier<String> defaultName) {
        DatasourceOptions given = options == null ? DatasourceOptions.defaults() : options;
        String name = given.name() != null ? given.name() : defaultName.get();
        return new StepSpec(name, given.effectiveIsolationLevel(), type, given.readOnly());
    }
}
