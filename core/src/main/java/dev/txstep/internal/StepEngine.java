package dev.txstep.internal;

import dev.txstep.DatasourceClosedException;
import dev.txstep.DatasourceException;
import dev.txstep.InvalidInputException;
import dev.txstep.NoTransactionException;
import dev.txstep.NonDeterminismException;
import dev.txstep.OutputSerializationException;
import dev.txstep.RecordedStepException;
import dev.txstep.RetryPolicy;
import dev.txstep.Serializer;
import dev.txstep.StepContextContributor;
import dev.txstep.StepEvent;
import dev.txstep.StepKey;
import dev.txstep.StepObserver;
import dev.txstep.StepOutcome;
import dev.txstep.TxSession;
import dev.txstep.WorkflowScope;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import java.time.Duration;
import java.util.BitSet;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Future;
import java.util.function.Function;
import org.reactivestreams.Publisher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Exceptions;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.util.context.Context;
import reactor.util.context.ContextView;

/**
 * Runs transaction steps. In a workflow:
 * <ol>
 *   <li>Find out whether the step is recorded, never reading inside a SERIALIZABLE transaction:
 *       from the recorded ids the execution's first step loaded on its own connection as it began
 *       (see {@link Dialect#loadThenBegin}), and, on a retry, by reading the step's row.</li>
 *   <li>If it is: check its name, return its output or raise its error. Nothing runs.</li>
 *   <li>Else: begin at the isolation level, run the function, serialize its value, insert the
 *       output row and commit — one transaction on one connection.</li>
 *   <li>A unique violation on the row means another executor recorded the step first: roll back
 *       and return what it recorded.</li>
 *   <li>An error of the function rolls back, is recorded in a small transaction of its own and is
 *       raised; transient failures retry the whole step instead and are never recorded.</li>
 * </ol>
 * Outside a workflow a step is a plain transaction with the same retries.
 *
 * <p>Every path releases its connection: {@code usingWhen} rolls back and closes on error and on
 * cancel, and closes after the commit. An attempt's statements go through a {@link GatedConnection},
 * shut before the rollback, so none of them reaches the server after it.
 */
public final class StepEngine {

    private static final Logger LOG = LoggerFactory.getLogger(StepEngine.class);

    private final ConnectionFactory connections;
    private final Dialect dialect;
    private final OutputStore store;
    private final Serializer serializer;
    private final Retrying retrying;
    private final StepObserver observer;
    private final List<StepContextContributor> contributors;
    private final Gate gate = new Gate();
    /** This engine's key for the running step's session in a Reactor context. */
    private final Object sessionKey = new Object();
    /**
     * This engine's key for the observer of the step being run, in the context of the step's
     * inner publishers: how an attempt's function finds it without every method passing it on.
     */
    private final Object stepObserverKey = new Object();

    /**
     * @param connections the pool steps take connections from
     * @param dialect     the database's dialect
     * @param store       the output table
     * @param serializer  turns outputs into text
     * @param retryPolicy how transient failures are retried
     * @param observer    hears how steps end and when they are retried
     * @param contributors add to the context of each step's function, in this order
     */
    public StepEngine(ConnectionFactory connections, Dialect dialect, OutputStore store, Serializer serializer,
            RetryPolicy retryPolicy, StepObserver observer, List<StepContextContributor> contributors) {
        this.connections = connections;
        this.dialect = dialect;
        this.store = store;
        this.serializer = serializer;
        this.retrying = new Retrying(retryPolicy, error -> Failures.isRetryable(error, dialect));
        this.observer = observer;
        this.contributors = List.copyOf(contributors);
    }

    /**
     * Runs a step: lazily, on subscribe; in the workflow found in the subscriber's context, if any.
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
            run.observer = started(run, ctx);
            outcome = outcome.contextWrite(inner -> inner.put(stepObserverKey, run.observer));
            if (dialect.runsOnCallingThread()) {
                // An embedded database blocks the subscribing thread, which in WebFlux is an event loop.
                outcome = outcome.subscribeOn(WorkerThreads.scheduler());
            }
            return outcome
                    .doOnSuccess(result -> report(run, result.outcome(), null))
                    .doOnError(error -> report(run, StepOutcome.FAILED, error))
                    .doFinally(signal -> gate.exit())
                    .flatMap(result -> result.value().isEmpty()
                            ? Mono.<R>empty() : Mono.just(cast(result.value().get(), spec)));
        });
    }

    /** One subscription of a step: what its observer and its DEBUG log line are told at the end. */
    private static final class StepRun {
        final String name;
        final long startNanos = System.nanoTime();
        StepKey key;
        int attempts = 1;
        /** Who hears how this step goes (see {@link StepObserver#stepStarted}). */
        StepObserver observer = StepObserver.NONE;

        StepRun(String name) {
            this.name = name;
        }

        /** Counts an attempt; the retry loop calls it with each attempt's number. */
        void attempt(int number) {
            attempts = number;
        }
    }

    /** The observer of one step, as the datasource's observer chooses it when the step starts. */
    private StepObserver started(StepRun run, ContextView ctx) {
        if (observer == StepObserver.NONE) {
            return StepObserver.NONE;
        }
        try {
            StepObserver stepObserver = observer.stepStarted(run.name, run.key, ctx);
            if (stepObserver != null) {
                return stepObserver;
            }
            LOG.warn("the step observer returned no observer for step '{}'; the datasource's observer hears it", run.name);
        } catch (RuntimeException e) {
            LOG.warn("the step observer failed; ignored", e);
        }
        return observer;
    }

    private void report(StepRun run, StepOutcome outcome, Throwable error) {
        Duration duration = Duration.ofNanos(System.nanoTime() - run.startNanos);
        if (LOG.isDebugEnabled()) {
            Object where = run.key != null ? run.key : "(unrecorded)";
            LOG.debug("step '{}' {} {} after {} attempt(s) in {} ms{}", run.name, where, outcome, run.attempts,
                    duration.toMillis(), error == null ? "" : ": " + error.getClass().getName());
        }
        if (run.observer == StepObserver.NONE) {
            return;
        }
        try {
            run.observer.stepFinished(new StepEvent(run.name, run.key, outcome, run.attempts, duration, error));
        } catch (RuntimeException e) {
            LOG.warn("the step observer failed; ignored", e);
        }
    }

    private void retried(StepRun run, Throwable error) {
        if (run.observer == StepObserver.NONE) {
            return;
        }
        try {
            run.observer.stepRetried(run.name, Failures.sqlState(error));
        } catch (RuntimeException e) {
            LOG.warn("the step observer failed; ignored", e);
        }
    }

    /** The session of the step whose function is running in the subscriber's context. */
    public Mono<TxSession> currentSession() {
        return Mono.deferContextual(ctx -> ctx.<TxSession>getOrEmpty(sessionKey)
                .map(Mono::just)
                .orElseGet(() -> Mono.error(new NoTransactionException("sqlSession() was called outside a"
                        + " transaction step of this datasource: call it from the step's function"))));
    }

    /** Refuses new steps and completes when the running ones have finished. */
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
        return retrying.run(key::toString, error -> retried(run, error), attempt -> {
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
                ? replayed(row.get(), spec, StepOutcome.REPLAYED) : execute(key, spec, fn, null));
    }

    /** The first step of an execution, loading the execution's recorded step ids for everyone. */
    private record Loader(RecordedSteps recorded, Sinks.One<BitSet> sink) {
    }

    private <R> Mono<StepResult> plainStep(StepRun run, StepSpec spec, Function<TxSession, ? extends Publisher<R>> fn) {
        return retrying.run(() -> "'" + spec.name() + "' (" + unrecordedKind(spec) + ")", error -> retried(run, error),
                        attempt -> {
                            run.attempt(attempt);
                            return plainAttempt(spec, fn);
                        })
                .onErrorMap(StepFailure.class, Throwable::getCause);
    }

    /** Why a step is not recorded, for messages. */
    private static String unrecordedKind(StepSpec spec) {
        return spec.readOnly() ? "read-only" : "outside a workflow";
    }

    /** One attempt of an unrecorded step (outside a workflow, or read-only): begin, run, commit. */
    private <R> Mono<StepResult> plainAttempt(StepSpec spec, Function<TxSession, ? extends Publisher<R>> fn) {
        return Mono.usingWhen(gatedConnection(),
                        conn -> dialect.begin(conn, spec.level(), spec.readOnly())
                                .then(transact(conn, null, spec, fn))
                                .flatMap(value -> Mono.from(conn.commitTransaction())
                                        .onErrorMap(this::leavesCommitUnknown, error -> new DatasourceException(
                                                "step '" + spec.name() + "' (" + unrecordedKind(spec) + ") failed while"
                                                + " committing (" + error + "): whether it committed is unknown, so it"
                                                + " is not retried. Run it as a recorded step in a workflow to make it"
                                                + " exactly-once", error))
                                        .thenReturn(new StepResult(value, StepOutcome.EXECUTED))),
                        this::release, (conn, error) -> endEarly(conn), this::endEarly)
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
        return Mono.usingWhen(gatedConnection(),
                        conn -> begin(conn, key, spec, loader)
                                .then(transact(conn, key, spec, fn))
                                .flatMap(value -> commitWithOutput(conn, key, spec, value)),
                        this::release, (conn, error) -> endEarly(conn), this::endEarly)
                .onErrorResume(StepFailure.class, failure -> failure instanceof StepFailure.AlreadyRecorded recorded
                        ? replayed(recorded.row(), spec, StepOutcome.REPLAYED) : afterRollback(key, spec, failure))
                .doFinally(signal -> {
                    if (loader != null) {
                        loader.recorded().abandon(loader.sink()); // no-op once the ids were loaded
                    }
                });
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
        return !Failures.isDefiniteRefusal(error, dialect);
    }

    /** Runs the function in the begun transaction and emits its value; the transaction stays open. */
    private <R> Mono<Optional<Object>> transact(Connection conn, StepKey key, StepSpec spec,
            Function<TxSession, ? extends Publisher<R>> fn) {
        TxSession session = new DefaultTxSession(conn, key);
        return Mono.defer(() -> {
            Publisher<R> publisher;
            try {
                publisher = fn.apply(session);
            } catch (Throwable error) {
                Exceptions.throwIfJvmFatal(error);
                return Mono.error(asFunctionError(error));
            }
            if (publisher == null) {
                return Mono.error(new InvalidInputException("the function of step '" + spec.name()
                        + "' returned a null publisher; return Mono.empty() for no value"));
            }
            return Flux.from(publisher)
                    .onErrorMap(StepEngine::asFunctionError)
                    .singleOrEmpty()
                    .onErrorMap(IndexOutOfBoundsException.class, e -> new InvalidInputException("the function of step '"
                            + spec.name() + "' emitted more than one value; a step emits at most one (collect a"
                            + " Flux into a list first). The transaction was rolled back"))
                    .handle((value, sink) -> {
                        if (isAsynchronous(value)) {
                            sink.error(asynchronousValue(spec, value));
                        } else {
                            sink.next(value);
                        }
                    })
                    .<Optional<Object>>map(Optional::of)
                    .defaultIfEmpty(Optional.empty())
                    .contextWrite(ctx -> functionContext(key == null ? ctx.put(sessionKey, session)
                            : ctx.put(sessionKey, session).put(WorkflowScope.RUNNING_STEP_KEY, key), conn));
        });
    }

    /**
     * The context the function runs with: the step's own entries, then the step observer's and the
     * contributors'. A contributor's exception fails the attempt as the function's would (its work
     * cannot run as the contributor meant); the observer's is logged and ignored.
     */
    private Context functionContext(Context ctx, Connection conn) {
        Context result = ctx;
        StepObserver stepObserver = ctx.getOrDefault(stepObserverKey, StepObserver.NONE);
        if (stepObserver != StepObserver.NONE) {
            try {
                result = stepObserver.stepContext(result);
            } catch (RuntimeException e) {
                LOG.warn("the step observer failed; ignored", e);
            }
        }
        for (StepContextContributor contributor : contributors) {
            result = contributor.contribute(result, conn, connections);
        }
        return result;
    }

    /**
     * Whether a step's value is work still to be done: a publisher, a future. Its work would run
     * after the step's transaction has ended, outside it, on a connection back in the pool.
     */
    private static boolean isAsynchronous(Object value) {
        return value instanceof Publisher || value instanceof CompletionStage || value instanceof Future;
    }

    private static InvalidInputException asynchronousValue(StepSpec spec, Object value) {
        return new InvalidInputException("step '" + spec.name() + "' produced a " + value.getClass().getName()
                + " as its value: an asynchronous value, whose work would run after the step's transaction has"
                + " ended, outside it. From BlockingDatasource, do the work in the function and return its result"
                + " (or use AsyncDatasource.runTxStepAsync for reactive work); from AsyncDatasource, return the"
                + " work's publisher itself (flatMap, not map). The transaction was rolled back; nothing was recorded");
    }

    /**
     * Marks an error of the function as its outcome — except txstep's own errors (misuse such as a
     * null parameter or {@code sqlSession()} of another datasource, a nested step's retries running
     * out, ...), which say nothing about the step and are never recorded. A replayed recorded error
     * of a nested step is an outcome like any other.
     */
    private static Throwable asFunctionError(Throwable error) {
        return error instanceof DatasourceException && !(error instanceof RecordedStepException)
                ? error : new StepFailure.FunctionFailed(error);
    }

    /** Writes the output row and commits, mapping a commit-time failure to what it means for the step. */
    private Mono<StepResult> commitWithOutput(Connection conn, StepKey key, StepSpec spec, Optional<Object> value) {
        OutputRow row = new OutputRow(key, spec.name(), serialize(key, value), null, serializer.name(),
                System.currentTimeMillis());
        return store.insertAndCommit(conn, row)
                .onErrorMap(error -> !(error instanceof StepFailure), error -> {
                    if (Failures.isUniqueViolation(error)) {
                        return new StepFailure.KeyTaken(error);
                    }
                    if (Failures.isIntegrityViolation(error) && !Failures.isRetryable(error, dialect)) {
                        // A deferred constraint on the function's own writes, checked at commit.
                        return new StepFailure.FunctionFailed(error);
                    }
                    if (!Failures.isRetryable(error, dialect) && !Failures.isDefiniteRefusal(error, dialect)) {
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
                    ? replayed(row.get(), spec, StepOutcome.CONFLICTED)
                            .doOnSubscribe(s -> LOG.debug("step {} was recorded by another executor", key))
                    : recordError(key, spec, cause));
        }
        if (failure instanceof StepFailure.OutcomeUnknown) {
            // If the commit landed, its row is the step's outcome; if not, nothing was recorded and
            // the error is not the step's outcome either: raised as is, unrecorded, not retried.
            return store.find(key).flatMap(row -> row.isPresent()
                    ? replayed(row.get(), spec, StepOutcome.EXECUTED) : Mono.<StepResult>error(cause));
        }
        if (Failures.isRetryableFromFunction(cause, dialect)) {
            return Mono.error(cause);
        }
        if (Failures.isDefectOfCallingCode(cause)) {
            // Not the step's outcome: unrecorded, the fixed code runs when the workflow runs again.
            LOG.warn("step {} failed with a defect of its code, not recorded: {}", key, cause.toString());
            return Mono.error(cause);
        }
        return recordError(key, spec, cause);
    }

    /** Records a function's error in its own transaction and raises it (or the winner's outcome). */
    private Mono<StepResult> recordError(StepKey key, StepSpec spec, Throwable error) {
        OutputRow row = new OutputRow(key, spec.name(), null, ErrorCodec.encode(error), serializer.name(),
                System.currentTimeMillis());
        return store.insertAlone(row)
                .onErrorResume(recordingFailure -> {
                    // The error stays the step's outcome for this caller; unrecorded, a replay runs the step again.
                    LOG.warn("could not record the error of step {}: {}", key, recordingFailure.toString());
                    return Mono.just(Boolean.TRUE);
                })
                .flatMap(inserted -> inserted
                        ? Mono.<StepResult>error(new StepFailure.FunctionFailed(error))
                        : store.find(key).flatMap(winner -> winner.isPresent()
                                ? replayed(winner.get(), spec, StepOutcome.CONFLICTED)
                                : Mono.<StepResult>error(new StepFailure.FunctionFailed(error))));
    }

    /** A recorded row's outcome as the step's result, obtained as {@code outcome} says. */
    private Mono<StepResult> replayed(OutputRow row, StepSpec spec, StepOutcome outcome) {
        return replay(row, spec).map(value -> new StepResult(value, outcome));
    }

    /** The outcome recorded in a row, after checking that the row belongs to this step. */
    private Mono<Optional<Object>> replay(OutputRow row, StepSpec spec) {
        StepKey key = row.key();
        if (!row.stepName().equals(spec.name())) {
            LOG.warn("non-determinism: step {} recorded as '{}' replayed as '{}'", key, row.stepName(), spec.name());
            return Mono.error(new NonDeterminismException(key, row.stepName(), spec.name()));
        }
        if (row.error() != null) {
            return Mono.error(ErrorCodec.decode(key, row.error(), serializer::allowsRecordedType));
        }
        if (row.output() == null) {
            return Mono.just(Optional.empty());
        }
        if (!serializer.name().equals(row.serialization())) {
            return Mono.error(new OutputSerializationException("the output of step " + key + " was recorded by serializer '"
                    + row.serialization() + "' but this datasource uses '" + serializer.name() + "'"));
        }
        try {
            Object value = spec.type() == null ? serializer.deserialize(row.output())
                    : serializer.deserialize(row.output(), spec.type());
            return Mono.just(Optional.ofNullable(value));
        } catch (RuntimeException e) {
            return Mono.error(new OutputSerializationException("the recorded output of step " + key
                    + " cannot be read back: " + e.getMessage(), e));
        }
    }

    private String serialize(StepKey key, Optional<Object> value) {
        if (value.isEmpty()) {
            return null;
        }
        String text;
        try {
            text = serializer.serialize(value.get());
        } catch (RuntimeException e) {
            throw new OutputSerializationException("the output of step " + key + " ("
                    + value.get().getClass().getName() + ") cannot be recorded, so the step was rolled back: "
                    + e.getMessage(), e);
        }
        // The recorded text must come back as it was written: NULL would replay as "no value", and
        // a NUL character or an unpaired surrogate is not stored as given.
        String unstorable = text == null ? null : Texts.unstorable(text);
        if (text == null || unstorable != null) {
            throw new OutputSerializationException("the output of step " + key + " ("
                    + value.get().getClass().getName() + ") cannot be recorded, so the step was rolled back: "
                    + (text == null ? "serializer '" + serializer.name() + "' returned null for it"
                            : "its serialized text contains " + unstorable + ", which a text column cannot store"));
        }
        return text;
    }

    @SuppressWarnings("unchecked")
    private static <R> R cast(Object value, StepSpec spec) {
        if (spec.type() != null && !spec.type().isInstance(value)) {
            throw new OutputSerializationException("the output of step '" + spec.name() + "' is a "
                    + value.getClass().getName() + ", not the " + spec.type().getName() + " the caller asked for");
        }
        return (R) value;
    }

    /** A pooled connection for one attempt of a step, behind its gate (see {@link GatedConnection}). */
    private Mono<GatedConnection> gatedConnection() {
        return Mono.from(connections.create()).map(GatedConnection::new);
    }

    private Mono<Void> release(GatedConnection conn) {
        return dialect.release(conn.delegate());
    }

    /**
     * Ends an attempt that failed or was cancelled: shuts its gate, so that a request the attempt is
     * sending at this moment goes out before the {@code ROLLBACK} and none goes out after it, then
     * rolls back and releases the connection.
     */
    private Mono<Void> endEarly(GatedConnection conn) {
        return Mono.defer(() -> {
            conn.shut();
            return rollbackAndRelease(conn.delegate());
        });
    }

    private Mono<Void> rollbackAndRelease(Connection conn) {
        return Mono.from(conn.rollbackTransaction())
                .onErrorResume(e -> Mono.empty())
                .then(dialect.release(conn));
    }
}
