package dev.txstep.internal.engine;

import dev.txstep.DatasourceClosedException;
import dev.txstep.DatasourceException;
import dev.txstep.InvalidInputException;
import dev.txstep.NoTransactionException;
import dev.txstep.RetryPolicy;
import dev.txstep.StepKey;
import dev.txstep.TxSession;
import dev.txstep.internal.WorkerThreads;
import dev.txstep.internal.dialect.DatabaseErrors;
import dev.txstep.internal.dialect.Dialect;
import dev.txstep.internal.store.OutputRow;
import dev.txstep.internal.store.OutputStore;
import dev.txstep.observe.StepObserver;
import dev.txstep.observe.StepOutcome;
import dev.txstep.serialization.Serializer;
import dev.txstep.spi.StepContextContributor;
import dev.txstep.spi.WorkflowScope;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import java.util.BitSet;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import org.reactivestreams.Publisher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * A step's control flow. In a workflow:
 * <ol>
 *   <li>Find out whether the step is recorded, never reading inside a SERIALIZABLE transaction:
 *       from the recorded ids the execution's first step loaded on its own connection as it began
 *       (see {@link OutputStore#loadThenBegin}), and, on a retry, by reading the step's row.</li>
 *   <li>If it is: replay it ({@link OutputCodec}). Nothing runs.</li>
 *   <li>Else: begin at the isolation level, run the function ({@link FunctionCall}), serialize its
 *       value, insert the output row and commit — one transaction on one connection.</li>
 *   <li>A unique violation on the row means another executor recorded the step first: roll back
 *       and return what it recorded.</li>
 *   <li>An error of the function rolls back and is recorded ({@link ErrorRecorder}) and raised;
 *       transient failures retry the whole step instead ({@link Retrying}) and are never recorded.</li>
 * </ol>
 * Outside a workflow, and for a read-only step, a step is a plain transaction with the same
 * retries. Every step is reported once ({@link StepReporter}).
 *
 * <p>Every path releases its connection ({@link AttemptConnections}). Closing refuses new steps
 * and waits for admitted ones ({@link Gate}).
 */
public final class StepEngine {

    private static final Logger LOG = LoggerFactory.getLogger(StepEngine.class);

    private final Dialect dialect;
    private final OutputStore store;
    private final OutputCodec codec;
    private final ErrorRecorder errors;
    private final StepReporter reporter;
    private final Retrying retrying;
    private final AttemptConnections attempts;
    private final FunctionContext functionContext;
    /** Where read-only steps run: a read replica's connections, or the same as {@link #attempts}. */
    private final AttemptConnections readOnlyAttempts;
    private final Gate gate = new Gate();
    /** This engine's key for the running step's session in a Reactor context. */
    private final Object sessionKey = new Object();

    /**
     * @param connections the pool steps take connections from
     * @param readOnlyConnections where read-only steps take theirs: a read replica, or {@code connections}
     * @param dialect     the database's dialect
     * @param store       the output table
     * @param serializer  turns outputs into text
     * @param retryPolicy how transient failures are retried
     * @param observer    hears how steps end and when they are retried
     * @param contributors add to the context of each step's function, in this order
     */
    public StepEngine(ConnectionFactory connections, ConnectionFactory readOnlyConnections, Dialect dialect,
            OutputStore store, Serializer serializer, RetryPolicy retryPolicy, StepObserver observer,
            List<StepContextContributor> contributors) {
        this.dialect = dialect;
        this.store = store;
        this.codec = new OutputCodec(serializer);
        this.errors = new ErrorRecorder(store, codec);
        this.reporter = new StepReporter(observer);
        this.retrying = new Retrying(retryPolicy, error -> Failures.isRetryable(error, dialect));
        this.functionContext = new FunctionContext(contributors, connections);
        DriverContext driverContext = new DriverContext(List.of(WorkflowScope.CONTEXT_KEY,
                WorkflowScope.RUNNING_STEP_KEY, sessionKey, functionContext.observerKey()));
        this.attempts = new AttemptConnections(connections, dialect, driverContext);
        this.readOnlyAttempts = readOnlyConnections == connections ? attempts
                : new AttemptConnections(readOnlyConnections, dialect, driverContext);
    }

    /**
     * Runs a step, in the workflow found in the subscriber's context if any.
     *
     * @param spec the step's resolved options
     * @param fn   the step's function
     * @param <R>  the output's type
     * @return on subscribe, runs or replays the step; emits its output, empty for none; errors as
     *         {@code AsyncDatasource.runTxStepAsync} documents; cancelling rolls back an attempt
     *         that has not committed
     */
    public <R> Mono<R> run(StepSpec spec, Function<TxSession, ? extends Publisher<R>> fn) {
        return Mono.deferContextual(ctx -> {
            if (!gate.enter()) {
                return Mono.error(new DatasourceClosedException("the datasource is closed; step '" + spec.name()
                        + "' was not run"));
            }
            Optional<WorkflowScope> scope = WorkflowScope.from(ctx);
            StepRun run = new StepRun(spec.name());
            Mono<StepResult> outcome;
            if (spec.readOnly()) {
                // Takes its id all the same, so the ids of later steps do not depend on it.
                scope.ifPresent(WorkflowScope::nextStep);
                outcome = plainStep(run, spec, fn);
            } else if (scope.isPresent()) {
                run.key = scope.get().nextStep();
                outcome = recordedStep(run, scope.get(), run.key, spec, fn);
            } else {
                outcome = plainStep(run, spec, fn);
            }
            reporter.started(run, spec, ctx);
            if (dialect.runsOnCallingThread()) {
                // An embedded database blocks the subscribing thread, which in WebFlux is an event loop.
                outcome = outcome.subscribeOn(WorkerThreads.scheduler());
            }
            return new StepCompletion<R>(outcome, run, spec, reporter, gate, functionContext);
        });
    }

    /**
     * The session of the step whose function is running in the subscriber's context.
     *
     * @return on subscribe, the session; errors with {@link NoTransactionException} outside a step
     *         of this engine
     */
    public Mono<TxSession> currentSession() {
        return Mono.deferContextual(ctx -> ctx.<TxSession>getOrEmpty(sessionKey)
                .map(Mono::just)
                .orElseGet(() -> Mono.error(new NoTransactionException("sqlSession() was called outside a"
                        + " transaction step of this datasource: call it from the step's function"))));
    }

    /**
     * Refuses new steps.
     *
     * @return completes when the admitted steps have finished
     */
    public Mono<Void> close() {
        return gate.close();
    }

    private <R> Mono<StepResult> recordedStep(StepRun run, WorkflowScope scope, StepKey key, StepSpec spec,
            Function<TxSession, ? extends Publisher<R>> fn) {
        if (key.workflowId().length() > dialect.maxWorkflowIdLength()) {
            // Refused before anything runs: the database would refuse the output row only after the
            // step's own statements had been executed.
            return Mono.error(new InvalidInputException("workflow id is " + key.workflowId().length()
                    + " characters long; this database's output table holds at most " + dialect.maxWorkflowIdLength()));
        }
        RecordedSteps recorded = scope.executionState(this, owner -> new RecordedSteps());
        return retrying.run(key::toString, error -> reporter.retried(run, error), attempt -> {
            run.attempt(attempt);
            if (attempt > 1) {
                // A retry reads the row: its failed attempt may have committed (a lost
                // acknowledgement) or lost a race to another executor.
                return readThenRun(key, spec, fn);
            }
            BitSet known = recorded.snapshot();
            if (known != null) {
                return known.get(key.stepId()) ? readThenRun(key, spec, fn) : execute(key, spec, fn, null);
            }
            Sinks.One<BitSet> load = recorded.claim();
            if (load != null) {
                // The execution's first step: it loads the recorded ids as it begins its transaction.
                return execute(key, spec, fn, new Loader(recorded, load));
            }
            return recorded.awaitLoad()
                    .flatMap(ids -> ids.get(key.stepId()) ? readThenRun(key, spec, fn) : execute(key, spec, fn, null))
                    .switchIfEmpty(Mono.defer(() -> readThenRun(key, spec, fn)));
        }).onErrorMap(StepFailure.class, Throwable::getCause);
    }

    /** Reads the step's row: replays it if present, else runs the step. */
    private <R> Mono<StepResult> readThenRun(StepKey key, StepSpec spec,
            Function<TxSession, ? extends Publisher<R>> fn) {
        return store.find(key).flatMap(row -> row.isPresent()
                ? codec.replay(row.get(), spec, StepOutcome.REPLAYED) : execute(key, spec, fn, null));
    }

    /** The first step of an execution, loading the execution's recorded step ids for everyone. */
    private record Loader(RecordedSteps recorded, Sinks.One<BitSet> sink) {
    }

    private <R> Mono<StepResult> plainStep(StepRun run, StepSpec spec, Function<TxSession, ? extends Publisher<R>> fn) {
        return retrying.run(() -> "'" + spec.name() + "' (" + unrecordedKind(spec) + ")",
                        error -> reporter.retried(run, error), attempt -> {
                            run.attempt(attempt);
                            return plainAttempt(spec, fn);
                        });
    }

    /** Why a step is not recorded, for messages. */
    private static String unrecordedKind(StepSpec spec) {
        return spec.readOnly() ? "read-only" : "outside a workflow";
    }

    /** One attempt of an unrecorded step (outside a workflow, or read-only): begin, run, commit. */
    private <R> Mono<StepResult> plainAttempt(StepSpec spec, Function<TxSession, ? extends Publisher<R>> fn) {
        // The one place a step may leave the primary: a read-only step records nothing and reads
        // no output row, so a replica serves it.
        AttemptConnections where = spec.readOnly() ? readOnlyAttempts : attempts;
        return where.use(conn -> dialect.begin(conn, spec.level(), spec.readOnly())
                        .then(FunctionCall.call(conn, null, spec, fn, sessionKey, functionContext))
                        .flatMap(value -> Mono.from(conn.commitTransaction())
                                .onErrorMap(this::leavesCommitUnknown, error -> new DatasourceException(
                                        "step '" + spec.name() + "' (" + unrecordedKind(spec) + ") failed while"
                                        + " committing (" + error + "): whether it committed is unknown, so it"
                                        + " is not retried. Run it as a recorded step in a workflow to make it"
                                        + " exactly-once", error))
                                .thenReturn(new StepResult(value, StepOutcome.EXECUTED))))
                // A function error is final unless the database reported it as transient.
                .onErrorMap(StepFailure.FunctionFailed.class, failure -> Failures.isRetryableFromFunction(
                        failure.getCause(), dialect) ? failure.getCause() : failure);
    }

    /**
     * Runs an unrecorded step: one transaction that runs the function and records its output. The
     * execution's first step also loads the execution's recorded ids as it begins; if they show
     * this step recorded after all, the row read with them is replayed (and a transaction begun in
     * the same round trip rolled back).
     */
    private <R> Mono<StepResult> execute(StepKey key, StepSpec spec,
            Function<TxSession, ? extends Publisher<R>> fn, Loader loader) {
        Mono<StepResult> step = attempts.use(conn -> {
                Mono<StepResult> attempt = begin(conn, key, spec, loader)
                        .then(FunctionCall.call(conn, key, spec, fn, sessionKey, functionContext))
                        .flatMap(value -> commitWithOutput(conn, key, spec, value));
                // Once per pooled connection: the store's statements, prepared before the step begins.
                return store.shouldPrepare(conn) ? store.prepare(conn).then(attempt) : attempt;
            })
            .onErrorResume(StepFailure.class, failure -> failure instanceof StepFailure.AlreadyRecorded recorded
                    ? codec.replay(recorded.row(), spec, StepOutcome.REPLAYED) : afterRollback(key, spec, failure));
        // No-op once the ids were loaded; otherwise the steps waiting for them read their own rows.
        return loader == null ? step : step.doFinally(signal -> loader.recorded().abandon(loader.sink()));
    }

    private Mono<Void> begin(Connection conn, StepKey key, StepSpec spec, Loader loader) {
        if (loader == null) {
            return dialect.begin(conn, spec.level(), false);
        }
        return store.loadThenBegin(conn, key, spec.level())
                .flatMap(loaded -> {
                    loader.recorded().loaded(loader.sink(), loaded.ids());
                    return loaded.current() != null
                            ? Mono.error(new StepFailure.AlreadyRecorded(loaded.current())) : Mono.<Void>empty();
                });
    }

    /**
     * Whether a commit failed in a way that leaves its outcome unknown: anything but the database
     * refusing the commit (a serialization failure at commit is a refusal), e.g. a broken connection.
     */
    private boolean leavesCommitUnknown(Throwable error) {
        return !DatabaseErrors.isDefiniteRefusal(error, dialect);
    }

    /** Writes the output row and commits, mapping a commit-time failure to what it means for the step. */
    private Mono<StepResult> commitWithOutput(Connection conn, StepKey key, StepSpec spec, Optional<Object> value) {
        OutputRow row = new OutputRow(key, spec.name(), codec.encode(key, value), null, codec.serializerName(),
                System.currentTimeMillis());
        return store.insertAndCommit(conn, row)
                .onErrorMap(error -> !(error instanceof StepFailure), error -> {
                    if (DatabaseErrors.isUniqueViolation(error, dialect)) {
                        return new StepFailure.KeyTaken(error);
                    }
                    if (DatabaseErrors.isIntegrityViolation(error) && !Failures.isRetryable(error, dialect)) {
                        // A deferred constraint on the function's own writes, checked at commit.
                        return new StepFailure.FunctionFailed(error);
                    }
                    if (!Failures.isRetryable(error, dialect) && !DatabaseErrors.isDefiniteRefusal(error, dialect)) {
                        // The commit may have landed: the row will say (a lost connection is retried,
                        // and the retry reads the row too).
                        return new StepFailure.OutcomeUnknown(error);
                    }
                    return error;
                })
                .thenReturn(new StepResult(value, StepOutcome.EXECUTED));
    }

    /** Decides, once the transaction is rolled back, what a failure means for the step. */
    private Mono<StepResult> afterRollback(StepKey key, StepSpec spec, StepFailure failure) {
        Throwable cause = failure.getCause();
        if (failure instanceof StepFailure.KeyTaken) {
            // Another executor recorded the step first; its outcome is the step's outcome. If no row is
            // there, the unique violation was the function's own (a deferred constraint).
            return store.find(key).flatMap(row -> row.isPresent()
                    ? codec.replay(row.get(), spec, StepOutcome.CONFLICTED)
                            .doOnSubscribe(s -> LOG.debug("step {} was recorded by another executor", key))
                    : errors.record(key, spec, cause));
        }
        if (failure instanceof StepFailure.OutcomeUnknown) {
            // If the commit landed, its row is the step's outcome; if not, nothing was recorded and
            // the error is not the step's outcome either: raised as is, unrecorded, not retried.
            return store.find(key).flatMap(row -> row.isPresent()
                    ? codec.replay(row.get(), spec, StepOutcome.EXECUTED) : Mono.<StepResult>error(cause));
        }
        if (Failures.isRetryableFromFunction(cause, dialect)) {
            return Mono.error(cause);
        }
        if (Failures.isDefectOfCallingCode(cause)) {
            // Not the step's outcome: unrecorded, the fixed code runs when the workflow runs again.
            LOG.warn("step {} failed with a defect of its code, not recorded: {}", key, cause.toString());
            return Mono.error(cause);
        }
        return errors.record(key, spec, cause);
    }
}
