package dev.txstep.reactor;

import dev.txstep.InvalidInputException;
import dev.txstep.StepKey;
import dev.txstep.spi.WorkflowScope;
import java.util.Optional;
import java.util.function.Supplier;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.util.context.Context;

/**
 * Runs code as a workflow, so the transaction steps it runs are recorded under the workflow's id
 * and replayed when it runs again.
 *
 * <p>Each subscription of a returned {@code Mono} or {@code Flux} is one execution of the
 * workflow: it starts at step 0, and the steps subscribed inside it get ids 0, 1, 2, … in the
 * order they are subscribed. Sequential composition ({@code then}, {@code flatMap} of a single
 * value, {@code concatMap}) and {@code Mono.zip} subscribe in a fixed order, so a replay gets the
 * same ids; {@code flatMap} over several inner steps subscribes them in source order, which is
 * deterministic when the source is. {@code retry()} or re-subscribing replays the workflow from
 * step 0, returning recorded outputs for the steps that already committed.
 *
 * <p>An HTTP request with an idempotency key is a workflow whose id is that key.
 */
public final class Workflow {

    private Workflow() {
    }

    /**
     * Runs a {@code Mono} as a workflow.
     *
     * @param workflowId the workflow's id: not blank, at most {@value StepKey#MAX_WORKFLOW_ID_LENGTH}
     *                   characters
     * @param body       the workflow's body
     * @param <T>        the result's type
     * @return the body, each subscription of which is a new execution of the workflow
     * @throws InvalidInputException for an invalid id or a null body, before anything runs
     */
    public static <T> Mono<T> run(String workflowId, Mono<T> body) {
        StepKey.requireValidWorkflowId(workflowId);
        requireBody(body);
        return body.contextWrite(ctx -> withScope(ctx, workflowId));
    }

    /**
     * Runs a {@code Flux} as a workflow; see {@link #run(String, Mono)}.
     *
     * @param workflowId the workflow's id
     * @param body       the workflow's body
     * @param <T>        the elements' type
     * @return the body, each subscription of which is a new execution of the workflow
     * @throws InvalidInputException for an invalid id or a null body, before anything runs
     */
    public static <T> Flux<T> run(String workflowId, Flux<T> body) {
        StepKey.requireValidWorkflowId(workflowId);
        requireBody(body);
        return body.contextWrite(ctx -> withScope(ctx, workflowId));
    }

    /**
     * Runs blocking code as a workflow on the calling thread: {@code BlockingDatasource} steps it
     * runs (on this thread, or on threads it hands a context-propagation snapshot to) take their ids
     * from this execution, as do reactive steps it subscribes with the thread's context captured
     * ({@code mono.contextCapture().block()}, or automatically under
     * {@code Hooks.enableAutomaticContextPropagation()}) — one counter for both.
     *
     * @param workflowId the workflow's id
     * @param body       the workflow's body
     * @param <T>        the result's type
     * @return what the body returns
     * @throws InvalidInputException for an invalid id or a null body, before anything runs
     */
    public static <T> T runBlocking(String workflowId, Supplier<T> body) {
        StepKey.requireValidWorkflowId(workflowId);
        requireBody(body);
        WorkflowScope previous = WorkflowThreadLocal.get();
        WorkflowThreadLocal.set(WorkflowScope.start(workflowId));
        try {
            return body.get();
        } finally {
            WorkflowThreadLocal.set(previous);
        }
    }

    /**
     * The step key in effect where this is subscribed, for diagnostics: inside a step's function,
     * the running step's key; elsewhere in a workflow, the key the next step would get (not
     * claimed); outside a workflow, empty.
     *
     * @return on subscribe, emits the key or an empty optional; never errors
     */
    public static Mono<Optional<StepKey>> currentStep() {
        return Mono.deferContextual(ctx -> {
            Optional<StepKey> running = ctx.getOrEmpty(WorkflowScope.RUNNING_STEP_KEY);
            if (running.isPresent()) {
                return Mono.just(running);
            }
            Optional<WorkflowScope> scope = WorkflowScope.from(ctx);
            if (scope.isEmpty()) {
                scope = Optional.ofNullable(WorkflowThreadLocal.get());
            }
            return Mono.just(scope.map(WorkflowScope::peekNextStep));
        });
    }

    private static Context withScope(Context ctx, String workflowId) {
        // Called once per subscription: a new execution, with its own step counter.
        return ctx.put(WorkflowScope.CONTEXT_KEY, WorkflowScope.start(workflowId));
    }

    private static void requireBody(Object body) {
        if (body == null) {
            throw new InvalidInputException("workflow body must not be null");
        }
    }
}
