package dev.txstep.reactor;

import dev.txstep.spi.WorkflowScope;
import io.micrometer.context.ThreadLocalAccessor;

/**
 * The thread-bound workflow scope of blocking code, known to context-propagation under
 * {@link WorkflowScope#CONTEXT_KEY}, so snapshots carry it between threads and into Reactor
 * {@code Context} (and back, with {@code Hooks.enableAutomaticContextPropagation()}).
 * Registered through {@code META-INF/services/io.micrometer.context.ThreadLocalAccessor}.
 */
public final class WorkflowThreadLocal implements ThreadLocalAccessor<WorkflowScope> {

    private static final ThreadLocal<WorkflowScope> CURRENT = new ThreadLocal<>();

    /** Instantiated by context-propagation's service loader. */
    public WorkflowThreadLocal() {
    }

    @Override
    public Object key() {
        return WorkflowScope.CONTEXT_KEY;
    }

    @Override
    public WorkflowScope getValue() {
        return CURRENT.get();
    }

    @Override
    public void setValue(WorkflowScope value) {
        CURRENT.set(value);
    }

    @Override
    public void setValue() {
        CURRENT.remove();
    }

    static WorkflowScope get() {
        return CURRENT.get();
    }

    static void set(WorkflowScope scope) {
        if (scope == null) {
            CURRENT.remove();
        } else {
            CURRENT.set(scope);
        }
    }
}
