package dev.txstep.reactor.dbos;

import dev.dbos.transact.DBOS;
import dev.txstep.AsyncDatasource;
import dev.txstep.BlockingDatasource;
import dev.txstep.BlockingTxSession;
import dev.txstep.DatasourceOptions;
import dev.txstep.InvalidInputException;
import dev.txstep.RecordedStepException;
import dev.txstep.StepKey;
import dev.txstep.serialization.Serializer;
import dev.txstep.spi.WorkflowScope;
import io.micrometer.context.ContextSnapshot;
import io.micrometer.context.ContextSnapshotFactory;
import java.util.function.Function;
import reactor.util.context.Context;

/**
 * Runs txstep transaction steps as steps of DBOS Java workflows ({@code dev.dbos:transact}), so
 * that DBOS's recovery and txstep's replay agree on every step.
 *
 * <p>Inside a DBOS workflow, {@link #runTxStep} runs the step through {@link DBOS#runStep}: DBOS
 * gives it the next step id of the workflow, and the txstep step inside is keyed
 * {@code (DBOS.workflowId(), DBOS.stepId())}. Its effects and its output row commit in one
 * transaction of the application database; DBOS then records the same output in its system
 * database. Whichever of the two records a recovery finds, the step does not run again:
 * <ul>
 *   <li>a crash after the txstep transaction committed but before DBOS recorded the step: DBOS
 *       runs the step again, and txstep returns the recorded output (or raises the recorded error)
 *       without calling the function;</li>
 *   <li>a crash after DBOS recorded the step: DBOS returns its recorded output and never calls
 *       txstep.</li>
 * </ul>
 * Either way the workflow sees the value the first execution returned, as DBOS's serializer and
 * txstep's serializer each bring it back; choose outputs both can bring back to equal values (records,
 * strings, numbers, lists and maps of them).
 *
 * <p>DBOS's workflow context is bound to the workflow's thread: call {@link #runTxStep} there, as
 * DBOS's own steps are called. Outside a DBOS workflow (another thread included), it is exactly
 * {@link BlockingDatasource#runTxStep(DatasourceOptions, Function)}: a step of the txstep workflow
 * bound to the thread ({@code Workflow.runBlocking}), if any, else a plain transaction with
 * retries that records nothing — as DBOS runs a step called outside a workflow as a plain call.
 *
 * <p>The step's function must not start other transaction steps. DBOS numbers its workflow's steps
 * itself and records nothing inside a step, so a nested step would have no key of its own:
 * {@link #runTxStep} refuses to start inside a DBOS step or inside the function of one of its
 * own steps ({@link InvalidInputException}); a step started on the datasource directly from such a
 * function would take the id of DBOS's next step, and is not supported.
 *
 * <p>DBOS records whatever a step throws as the step's outcome, including the failures txstep
 * itself leaves unrecorded so that a later run may try again ({@code RetriesExhaustedException},
 * {@code DatasourceClosedException}): under DBOS such a failure is final for that step, as any
 * exception of a DBOS step is. Shut DBOS down before closing the datasource, so no workflow is
 * cut off mid-step by a closed datasource.
 *
 * <p>DBOS workflows run on threads of their own, so the calls here block: the function runs on
 * the workflow's thread, which waits for the step's transaction, as with
 * {@link BlockingDatasource}. Thread-safe; create one per datasource and share it.
 */
public final class DbosTxSteps {

    private static final ContextSnapshotFactory SNAPSHOTS = ContextSnapshotFactory.builder().build();

    /** The key of the step whose function runs on this thread, to refuse steps nested in it. */
    private static final ThreadLocal<StepKey> RUNNING = new ThreadLocal<>();

    private final DBOS dbos;
    private final BlockingDatasource datasource;

    private DbosTxSteps(DBOS dbos, BlockingDatasource datasource) {
        this.dbos = dbos;
        this.datasource = datasource;
    }

    /**
     * Steps of {@code dbos}'s workflows on a blocking datasource. Create it before or after
     * {@code dbos.launch()}; it keeps references only and opens nothing.
     *
     * @param dbos       the DBOS instance whose workflows call {@link #runTxStep}
     * @param datasource the application database's datasource; not closed by this class
     * @return the adapter
     * @throws InvalidInputException if an argument is null
     */
    public static DbosTxSteps create(DBOS dbos, BlockingDatasource datasource) {
        if (dbos == null) {
            throw new InvalidInputException("DBOS instance must not be null");
        }
        if (datasource == null) {
            throw new InvalidInputException("datasource must not be null");
        }
        return new DbosTxSteps(dbos, datasource);
    }

    /**
     * Steps of {@code dbos}'s workflows on a reactive datasource, through its blocking facade; see
     * {@link #create(DBOS, BlockingDatasource)}.
     *
     * @param dbos       the DBOS instance whose workflows call {@link #runTxStep}
     * @param datasource the application database's datasource; not closed by this class
     * @return the adapter
     * @throws InvalidInputException if an argument is null
     */
    public static DbosTxSteps create(DBOS dbos, AsyncDatasource datasource) {
        if (datasource == null) {
            throw new InvalidInputException("datasource must not be null");
        }
        return create(dbos, BlockingDatasource.wrap(datasource));
    }

    /**
     * Runs a transaction step and waits for it. In a DBOS workflow it is a DBOS step named
     * {@code options.name()}, keyed by DBOS's workflow id and step id (see the class comment);
     * outside one it is {@link BlockingDatasource#runTxStep(DatasourceOptions, Function)}.
     * Semantics, retries and errors of the transaction are those of
     * {@link AsyncDatasource#runTxStepAsync(DatasourceOptions, Function)}; DBOS does not retry the
     * step (txstep already retries serialization failures, deadlocks and lost connections).
     *
     * <p>A recorded error is raised as the first execution raised it: when txstep replays an error
     * whose type it can rebuild (an unchecked exception with a public {@code (String)}
     * constructor, of a type the datasource's serializer trusts: see
     * {@code Serializer.allowsRecordedType}), the rebuilt exception is thrown rather than the {@link RecordedStepException}
     * around it, so that the workflow — and DBOS, which records what the step throws — sees the
     * same type and message whether the error comes from DBOS's record or from txstep's.
     *
     * @param options the step's name (required: DBOS records steps by name, and a name survives
     *                refactoring) and isolation level
     * @param fn      the step's function, run on a worker thread with the step's session; called
     *                again only after a transient failure rolled it back, never once the step is
     *                recorded
     * @param <R>     the output's type
     * @return the step's output (null if the function returned null)
     * @throws InvalidInputException if {@code options} names no step, {@code fn} is null, the DBOS
     *                               workflow id is not a valid txstep workflow id, or the call is
     *                               nested in a DBOS step or in one of this class's steps
     * @throws RuntimeException      the function's own exception, or txstep's
     *                               ({@code DatasourceException} and subclasses)
     */
    public <R> R runTxStep(DatasourceOptions options, Function<BlockingTxSession, R> fn) {
        if (options == null || options.name() == null) {
            throw new InvalidInputException("a DBOS step needs a name: pass DatasourceOptions.named(\"...\")");
        }
        if (fn == null) {
            throw new InvalidInputException("step function must not be null");
        }
        StepKey enclosing = RUNNING.get();
        if (enclosing != null) {
            throw new InvalidInputException("step '" + options.name() + "' was started inside the function of step "
                    + enclosing + ": a DBOS workflow's steps cannot be nested; run it from the workflow itself");
        }
        if (!DBOS.inWorkflow()) {
            return datasource.runTxStep(options, fn);
        }
        if (DBOS.inStep()) {
            throw new InvalidInputException("step '" + options.name() + "' was started inside DBOS step "
                    + DBOS.stepId() + " of workflow '" + DBOS.workflowId() + "': DBOS records no steps inside a"
                    + " step, so this one would have no key of its own; run it from the workflow itself");
        }
        // Checked here, not inside the DBOS step, so that an id txstep cannot key fails before DBOS
        // records anything.
        StepKey.requireValidWorkflowId(DBOS.workflowId());
        return dbos.runStep(() -> keyedByDbos(options, fn), options.name());
    }

    /** Runs inside {@link DBOS#runStep}, where DBOS's context names the step's workflow and id. */
    @SuppressWarnings("try") // the scope is only opened and closed: that is its whole use
    private <R> R keyedByDbos(DatasourceOptions options, Function<BlockingTxSession, R> fn) {
        StepKey key = new StepKey(DBOS.workflowId(), DBOS.stepId());
        // A scope whose next step is exactly this one. It lives for one step: DBOS owns the
        // numbering, so the next txstep step gets its id from DBOS again. (Each step is thus the
        // first of its scope, and reads the workflow's recorded step ids as a first step does.)
        WorkflowScope scope = WorkflowScope.resume(key.workflowId(), key.stepId());
        // The blocking facade finds the workflow in the calling thread's context-propagation
        // values and carries it to the thread that runs the function.
        try (ContextSnapshot.Scope bound = SNAPSHOTS.setThreadLocalsFrom(
                Context.of(WorkflowScope.CONTEXT_KEY, scope), WorkflowScope.CONTEXT_KEY)) {
            return datasource.runTxStep(options, session -> {
                RUNNING.set(key);
                try {
                    return fn.apply(session);
                } finally {
                    RUNNING.remove();
                }
            });
        } catch (RecordedStepException e) {
            throw asFirstRaised(e, key);
        }
    }

    /**
     * The exception the first execution raised, when txstep could rebuild it; else the recorded
     * step exception itself.
     */
    private static RuntimeException asFirstRaised(RecordedStepException e, StepKey key) {
        if (key.equals(e.key()) && e.getCause() instanceof RuntimeException original) {
            return original;
        }
        return e;
    }
}
