package dev.txstep.spi;

import dev.txstep.InvalidInputException;
import dev.txstep.StepKey;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import reactor.util.context.ContextView;

/**
 * One execution of a workflow, as transaction steps see it: the workflow's id and the counter
 * that gives each step its id. This is the small service-provider contract between the
 * datasources and whatever runs workflows: {@code dev.txstep.reactor.Workflow} in the reactor
 * adapter, or an integration with a workflow engine.
 *
 * <p>A runtime starts a scope for each execution ({@link #start}) and makes it visible under
 * {@link #CONTEXT_KEY}: in the Reactor {@code Context} of the execution's subscribers, and, for
 * blocking code, in a thread-bound value that {@code io.micrometer:context-propagation} knows under
 * the same key. A datasource step that finds a scope claims the next step id ({@link #nextStep()})
 * when it is subscribed.
 *
 * <p>Thread-safe.
 */
public final class WorkflowScope {

    /**
     * The key of the current scope in a Reactor {@code Context} and in context-propagation's
     * registry of thread-local accessors.
     */
    public static final String CONTEXT_KEY = "dev.txstep.workflow-scope";

    /**
     * The key under which a running step's {@link StepKey} is visible in the Reactor
     * {@code Context} of its function's publisher.
     */
    public static final String RUNNING_STEP_KEY = "dev.txstep.running-step";

    private final String workflowId;
    private final AtomicInteger nextStepId;
    private final ConcurrentMap<Object, Object> state = new ConcurrentHashMap<>(4);

    private WorkflowScope(String workflowId, int firstStepId) {
        this.workflowId = StepKey.requireValidWorkflowId(workflowId);
        if (firstStepId < 0) {
            throw new InvalidInputException("first step id must be zero or more, was " + firstStepId);
        }
        this.nextStepId = new AtomicInteger(firstStepId);
    }

    /**
     * Starts a new execution of a workflow: its first step gets id 0.
     *
     * @param workflowId the workflow's id
     * @return a new scope
     * @throws InvalidInputException if the id is null, blank, too long or contains NUL
     */
    public static WorkflowScope start(String workflowId) {
        return new WorkflowScope(workflowId, 0);
    }

    /**
     * Starts a scope whose first step gets {@code firstStepId}: for engines that number their
     * own steps and hand over part of a workflow.
     *
     * @param workflowId  the workflow's id
     * @param firstStepId the id of the next step, zero or more
     * @return a new scope
     * @throws InvalidInputException if an argument is invalid
     */
    public static WorkflowScope resume(String workflowId, int firstStepId) {
        return new WorkflowScope(workflowId, firstStepId);
    }

    /**
     * The scope visible in a Reactor context, if any.
     *
     * @param context a subscriber's context
     * @return the scope under {@link #CONTEXT_KEY}, or empty outside a workflow
     */
    public static Optional<WorkflowScope> from(ContextView context) {
        return context.getOrEmpty(CONTEXT_KEY);
    }

    /**
     * @return the workflow's id
     */
    public String workflowId() {
        return workflowId;
    }

    /**
     * Claims the key of the next step. Each call returns a new id; a step calls it once, when it
     * is subscribed.
     *
     * @return the claimed key
     */
    public StepKey nextStep() {
        return new StepKey(workflowId, nextStepId.getAndIncrement());
    }

    /**
     * The key the next step would get, without claiming it. For diagnostics.
     *
     * @return the next key
     */
    public StepKey peekNextStep() {
        return new StepKey(workflowId, nextStepId.get());
    }

    /**
     * State a datasource keeps for the length of this execution, such as which of the workflow's
     * steps are already recorded, so it asks the database once per execution rather than once per
     * step. One value per owner, created on first use.
     *
     * @param owner   the datasource (or other component) that owns the value
     * @param factory creates the value on first use
     * @param <T>     the value's type
     * @return the owner's value
     */
    @SuppressWarnings("unchecked")
    public <T> T executionState(Object owner, Function<Object, T> factory) {
        return (T) state.computeIfAbsent(owner, factory);
    }

    @Override
    public String toString() {
        return "WorkflowScope[" + workflowId + ", next step " + nextStepId.get() + "]";
    }
}
