package dev.txstep;

import dev.txstep.internal.WorkerThreads;
import dev.txstep.internal.engine.DatasourceAssembly;
import dev.txstep.internal.engine.StepNames;
import dev.txstep.internal.engine.StepSpec;
import dev.txstep.observe.StepObserver;
import dev.txstep.spi.WorkflowScope;
import io.r2dbc.spi.ConnectionFactory;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.function.BiFunction;
import java.util.function.Function;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Runs exactly-once transaction steps over R2DBC: the reactive datasource.
 *
 * <p>A step runs the caller's function in one database transaction and, in a workflow, writes the
 * function's serialized output into {@code datasource_outputs} in that same transaction, keyed by
 * {@link StepKey}. When the workflow is replayed, a recorded step returns its recorded output (or
 * raises its recorded error) and does not run again. The workflow is found in the subscriber's
 * Reactor {@code Context} under {@link WorkflowScope#CONTEXT_KEY} (see {@code Workflow.run} in the
 * reactor adapter); outside a workflow a step is a plain transaction with retries, and nothing is
 * recorded.
 *
 * <p>Every method is lazy: nothing happens until the returned publisher is subscribed, and each
 * subscription is a new step (a new step id in a workflow). Thread-safe.
 */
public final class AsyncDatasource {

    /** Rows deleted per statement by the prune methods. */
    static final int PRUNE_BATCH = 1000;

    private final DatasourceAssembly parts;
    private final String schema;

    private AsyncDatasource(DatasourceAssembly parts, String schema) {
        this.parts = parts;
        this.schema = schema;
    }

    /**
     * Creates a datasource for an R2DBC URL with all other settings at their defaults.
     *
     * @param r2dbcUrl e.g. {@code r2dbc:postgresql://postgres@127.0.0.1:5432/app} or
     *                 {@code r2dbc:h2:mem:///app}
     * @return on subscribe, validates the URL, builds a connection pool, installs the output table
     *         (blocking JDBC work, run on a {@code Schedulers.boundedElastic()} thread) and emits the
     *         datasource; errors with {@link InvalidConfigurationException} for a bad or unsupported
     *         URL, or {@link DatasourceException} if the migration fails
     */
    public static Mono<AsyncDatasource> create(String r2dbcUrl) {
        return Mono.defer(() -> create(DatasourceConfig.builder().url(r2dbcUrl).build()));
    }

    /**
     * Creates a datasource from a configuration.
     *
     * @param config the configuration
     * @return on subscribe, builds the connection pool (unless the configuration brings its own
     *         connection factory), installs the output table unless {@code migrate(false)}, and emits
     *         the datasource; errors with {@link InvalidConfigurationException} for an unusable
     *         configuration (nothing is created), or {@link DatasourceException} if the migration
     *         fails (the pool it built is disposed)
     */
    public static Mono<AsyncDatasource> create(DatasourceConfig config) {
        if (config == null) {
            return Mono.error(new InvalidConfigurationException("config must not be null"));
        }
        return Mono.fromCallable(() -> open(config)).subscribeOn(WorkerThreads.scheduler());
    }

    private static AsyncDatasource open(DatasourceConfig config) {
        AsyncDatasource datasource = new AsyncDatasource(DatasourceAssembly.assemble(config.settings()),
                config.settings().schema());
        config.settings().observer().datasourceCreated(datasource);
        return datasource;
    }

    /**
     * Runs a step with default options (see {@link DatasourceOptions}).
     *
     * @param fn  the step's function: receives the transaction's session and returns a publisher of
     *            at most one value
     * @param <R> the output's type
     * @return see {@link #runTxStepAsync(DatasourceOptions, Function)}
     * @throws InvalidInputException if {@code fn} is null
     */
    public <R> Mono<R> runTxStepAsync(Function<TxSession, ? extends Publisher<R>> fn) {
        return step(StepSpec.resolve(null, null, StepNames::ofCaller), fn);
    }

    /**
     * Runs a transaction step.
     *
     * <p>On subscribe: outside a workflow, begins a transaction at the isolation level, subscribes to
     * {@code fn}'s publisher and commits; nothing is recorded. In a workflow, claims the next step
     * id; if the step is recorded, emits its recorded output or errors with its recorded error, and
     * does not call {@code fn}; else runs {@code fn} in a transaction that also records its output,
     * and emits the output. Empty if the publisher completes without a value (replays as empty).
     *
     * <p>Errors: the function's own error, as raised, after it is recorded (in a workflow);
     * {@link RecordedStepException} when a recorded error is replayed; {@link NonDeterminismException}
     * if the recorded step has another name; {@link OutputSerializationException} if the output cannot
     * be recorded (the transaction is rolled back, nothing is recorded);
     * {@link InvalidInputException} if the publisher emits more than one value (rolled back, nothing
     * recorded); {@link RetriesExhaustedException} when serialization failures, deadlocks or lost
     * connections outlast the retry policy (nothing recorded); {@link DatasourceClosedException}
     * after {@link #close()}.
     *
     * <p>Cancelling before the commit rolls the transaction back; every outcome releases the
     * connection to the pool.
     *
     * @param options the step's name and isolation level; null for defaults
     * @param fn      the step's function: receives the transaction's session and returns a publisher
     *                of at most one value
     * @param <R>     the output's type
     * @return the step's output
     * @throws InvalidInputException if {@code fn} is null
     */
    public <R> Mono<R> runTxStepAsync(DatasourceOptions options, Function<TxSession, ? extends Publisher<R>> fn) {
        return step(StepSpec.resolve(options, null, StepNames::ofCaller), fn);
    }

    /**
     * Runs a transaction step whose output must be of a given type: a replayed output of another
     * type errors with {@link OutputSerializationException}. Otherwise as
     * {@link #runTxStepAsync(DatasourceOptions, Function)}.
     *
     * @param options the step's options; null for defaults
     * @param type    the output's type
     * @param fn      the step's function
     * @param <R>     the output's type
     * @return the step's output
     * @throws InvalidInputException if {@code type} or {@code fn} is null
     */
    public <R> Mono<R> runTxStepAsync(DatasourceOptions options, Class<R> type,
            Function<TxSession, ? extends Publisher<R>> fn) {
        if (type == null) {
            throw new InvalidInputException("output type must not be null");
        }
        return step(StepSpec.resolve(options, type, StepNames::ofCaller), fn);
    }

    /**
     * Wraps a function as a transaction step, the Java form of DBOS's {@code @transaction}: each
     * call of the returned function returns a new step, run as by
     * {@link #runTxStepAsync(DatasourceOptions, Function)}. The default name is the method that
     * called {@code transaction}.
     *
     * @param options the steps' options; null for defaults
     * @param fn      the step's function, given the session and the call's argument
     * @param <A>     the argument's type
     * @param <R>     the output's type
     * @return a function returning a lazy step per call
     * @throws InvalidInputException if {@code fn} is null
     */
    public <A, R> Function<A, Mono<R>> transaction(DatasourceOptions options,
            BiFunction<TxSession, A, ? extends Publisher<R>> fn) {
        if (fn == null) {
            throw new InvalidInputException("transaction function must not be null");
        }
        StepSpec spec = StepSpec.resolve(options, null, StepNames::ofCaller);
        return argument -> step(spec, session -> fn.apply(session, argument));
    }

    /**
     * {@link #transaction(DatasourceOptions, BiFunction)} with default options.
     *
     * @param fn  the step's function
     * @param <A> the argument's type
     * @param <R> the output's type
     * @return a function returning a lazy step per call
     * @throws InvalidInputException if {@code fn} is null
     */
    public <A, R> Function<A, Mono<R>> transaction(BiFunction<TxSession, A, ? extends Publisher<R>> fn) {
        return transaction(null, fn);
    }

    /**
     * The session of the transaction step whose function is running, found through the Reactor
     * {@code Context}: use it in publishers subscribed inside a step's function.
     *
     * @return on subscribe, the session; errors with {@link NoTransactionException} outside a step
     *         of this datasource
     */
    public Mono<TxSession> sqlSession() {
        return parts.engine().currentSession();
    }

    /**
     * Deletes the outputs recorded more than {@code age} ago, in batches of
     * {@value #PRUNE_BATCH} rows, each batch a short transaction of its own on a pooled connection,
     * so that steps running meanwhile wait for no long-held locks. The {@code created_at} index
     * finds the rows.
     *
     * <p>A deleted output is forgotten: a workflow replayed after its outputs were pruned runs
     * those steps again. Choose an age beyond which no workflow can still be retried or recovered.
     *
     * @param age how old a row must be to go; zero deletes everything recorded until now
     * @return on subscribe, deletes; emits the number of rows deleted
     */
    public Mono<Long> pruneOlderThan(Duration age) {
        return Mono.defer(() -> {
            if (age == null || age.isNegative()) {
                return Mono.error(new InvalidInputException("age must be zero or positive, was " + age));
            }
            return parts.store().deleteCreatedBefore(System.currentTimeMillis() - age.toMillis(), PRUNE_BATCH);
        });
    }

    /**
     * Deletes every output recorded for the given workflows, in batches of {@value #PRUNE_BATCH}
     * rows. Call it for workflows that have finished and will not be replayed: a workflow replayed
     * afterwards runs its steps again.
     *
     * @param workflowIds the workflows, each a valid workflow id
     * @return on subscribe, deletes; emits the number of rows deleted
     */
    public Mono<Long> pruneWorkflows(Collection<String> workflowIds) {
        return Mono.defer(() -> {
            if (workflowIds == null) {
                return Mono.error(new InvalidInputException("workflowIds must not be null"));
            }
            List<String> ids = List.copyOf(workflowIds); // also refuses null elements
            ids.forEach(StepKey::requireValidWorkflowId);
            return Flux.fromIterable(ids).concatMap(id -> parts.store().deleteWorkflow(id, PRUNE_BATCH)).reduce(0L, Long::sum);
        }).onErrorMap(NullPointerException.class, e -> new InvalidInputException("workflowIds must not contain null"));
    }

    /**
     * Forgets the recorded outcome of one step, so that the next execution of its workflow runs
     * that step again. Meant for an outcome recorded because of a defect since fixed (a recorded
     * error the code should never have raised); to forget a whole workflow, use
     * {@link #pruneWorkflows}. The workflow's later steps keep their records: the step runs again,
     * the ones after it still replay. Do not call it while the workflow may be running.
     *
     * @param key the step, as {@link RecordedStepException#key()} or {@code TxSession.stepKey()} name it
     * @return on subscribe, deletes the step's row in a transaction of its own; emits whether a row
     *         was there. Errors with {@link InvalidInputException} if {@code key} is null
     */
    public Mono<Boolean> pruneStep(StepKey key) {
        return Mono.defer(() -> key == null ? Mono.error(new InvalidInputException("step key must not be null"))
                : parts.store().deleteStep(key));
    }

    /**
     * The connection factory steps take connections from: the pool this datasource built (an
     * {@code io.r2dbc.pool.ConnectionPool}, whose metrics tell acquired and idle connections), or the
     * one the configuration gave.
     *
     * @return the connection factory
     */
    public ConnectionFactory connectionFactory() {
        return parts.connections();
    }

    /**
     * The schema holding {@code datasource_outputs}.
     *
     * @return the schema name
     */
    public String schema() {
        return schema;
    }

    /**
     * Checks that the database answers and the output table is there, for readiness and health
     * checks: one query on {@code datasource_outputs} that reads no row, on a pooled connection. It
     * runs no step, so it takes no step id, is not reported to the {@code StepObserver}, and is not
     * refused by a gate: after {@link #close()}, it fails only if the pool is gone.
     *
     * @return on subscribe, borrows a connection, runs the query and returns the connection;
     *         completes if the table answered, else errors with the driver's exception (the
     *         database unreachable, or the table missing: not migrated, or in another schema)
     */
    public Mono<Void> checkReady() {
        return parts.store().probe();
    }

    /**
     * Closes the datasource: new steps error with {@link DatasourceClosedException}, running steps
     * finish, then the pool this datasource built is disposed (a connection factory the
     * configuration gave is left open).
     *
     * @return on subscribe, closes; completes when running steps have finished and the pool is disposed
     */
    public Mono<Void> close() {
        return parts.close();
    }

    /** Runs a step whose options every entry point resolved with {@link StepSpec#resolve}. */
    <R> Mono<R> step(StepSpec spec, Function<TxSession, ? extends Publisher<R>> fn) {
        if (fn == null) {
            throw new InvalidInputException("step function must not be null");
        }
        return parts.engine().run(spec, fn);
    }
}
