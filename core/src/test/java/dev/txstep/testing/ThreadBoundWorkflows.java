package dev.txstep.testing;

import dev.txstep.spi.WorkflowScope;
import io.micrometer.context.ContextRegistry;
import io.micrometer.context.ThreadLocalAccessor;
import java.util.function.Supplier;

/**
 * Workflows bound to the calling thread, as the reactor adapter's {@code Workflow.runBlocking}
 * binds them (core's tests cannot depend on the adapter): a {@code ThreadLocal} registered with
 * micrometer context-propagation under {@link WorkflowScope#CONTEXT_KEY}, which the blocking
 * facade captures and restores on the thread that runs a step's function. Register it for a test
 * and close it afterwards, which puts back whatever accessor was registered under that key before.
 */
public final class ThreadBoundWorkflows implements AutoCloseable {

    private static final ThreadLocal<WorkflowScope> SCOPE = new ThreadLocal<>();

    private final ThreadLocalAccessor<?> previous;

    private ThreadBoundWorkflows(ThreadLocalAccessor<?> previous) {
        this.previous = previous;
    }

    /** Registers the thread-bound scope, replacing any accessor under the same key until {@link #close()}. */
    public static ThreadBoundWorkflows register() {
        ContextRegistry registry = ContextRegistry.getInstance();
        ThreadLocalAccessor<?> previous = registry.getThreadLocalAccessors().stream()
                .filter(a -> WorkflowScope.CONTEXT_KEY.equals(a.key()))
                .findFirst().orElse(null);
        registry.registerThreadLocalAccessor(WorkflowScope.CONTEXT_KEY, SCOPE::get, SCOPE::set, SCOPE::remove);
        return new ThreadBoundWorkflows(previous);
    }

    /** The workflow scope bound to the calling thread, or null. */
    public static WorkflowScope current() {
        return SCOPE.get();
    }

    /** Runs a body in a new execution of a workflow, bound to the calling thread. */
    public static <T> T inScope(String workflowId, Supplier<T> body) {
        WorkflowScope outer = SCOPE.get();
        SCOPE.set(WorkflowScope.start(workflowId));
        try {
            return body.get();
        } finally {
            if (outer == null) {
                SCOPE.remove();
            } else {
                SCOPE.set(outer);
            }
        }
    }

    @Override
    public void close() {
        ContextRegistry registry = ContextRegistry.getInstance();
        registry.removeThreadLocalAccessor(WorkflowScope.CONTEXT_KEY);
        if (previous != null) {
            registry.registerThreadLocalAccessor(previous);
        }
    }
}
