package dev.txstep.testing;

import dev.txstep.spi.WorkflowScope;
import reactor.core.publisher.Mono;

/**
 * Runs a publisher inside a workflow execution without the reactor adapter (core's tests do not
 * depend on it): what {@code Workflow.run} does, through the same public SPI.
 */
public final class Workflows {

    private Workflows() {
    }

    /** Each subscription is a new execution of the workflow, starting at step 0. */
    public static <T> Mono<T> inWorkflow(String workflowId, Mono<T> body) {
        return body.contextWrite(ctx -> ctx.put(WorkflowScope.CONTEXT_KEY, WorkflowScope.start(workflowId)));
    }
}
