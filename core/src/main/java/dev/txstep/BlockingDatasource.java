package dev.txstep;

import dev.txstep.internal.engine.StepNames;
import dev.txstep.internal.engine.StepSpec;
import io.micrometer.context.ContextSnapshot;
import io.micrometer.context.ContextSnapshotFactory;
import java.util.function.BiFunction;
import java.util.function.Function;
import reactor.core.Exceptions;
import reactor.core.publisher.Mono;

/**
 * The synchronous facade over {@link AsyncDatasource}, for code that blocks: each method waits for
 * the step and returns its output or throws its error. Same steps, same table, same guarantees;
 * not a second implementation.
 *
 * <p>The workflow a step belongs to is found in the calling thread's context: thread-bound values
 * registered with {@code io.micrometer:context-propagation} (such as the workflow scope that
 * {@code Workflow.runBlocking} in the reactor adapter sets) are captured at the call, so blocking
 * and reactive steps share one step counter.
 *
 * <p>The step's function runs on the calling thread, which waits for the step anyway: its
 * transaction's reactive work runs where the driver runs it, and the function's turn comes back
 * to the caller. No worker pool stands between, so the facade scales with the callers' threads
 * (platform or virtual) and the connection pool. Interrupting the calling thread cancels the step
 * (it rolls back) and raises the interrupt as {@code Mono.block()} does. Every method refuses to
 * run on a non-blocking (event-loop) thread with {@link BlockingCallException}. Thread-safe.
 */
public final class BlockingDatasource implements AutoCloseable {

    private static final ContextSnapshotFactory SNAPSHOTS = ContextSnapshotFactory.builder().build();

    private final AsyncDatasource async;
    private final ThreadLocal<BlockingTxSession> currentSession = new ThreadLocal<>();

    private BlockingDatasource(AsyncDatasource async) {
        this.async = async;
    }

    /**
     * Creates a datasource for an R2DBC URL, waiting for it; see {@link AsyncDatasource#create(String)}.
     *
     * @param r2dbcUrl the database's R2DBC URL
     * @return the datasource
     * @throws InvalidConfigurationException for a bad or unsupported URL
     * @throws DatasourceException           if the migration fails
     * @throws BlockingCallException         on a non-blocking thread
     */
    public static BlockingDatasource create(String r2dbcUrl) {
        BlockingGuard.check("BlockingDatasource.create");
        return new BlockingDatasource(AsyncDatasource.create(r2dbcUrl).block());
    }

    /**
     * Creates a datasource from a configuration, waiting for it; see
     * {@link AsyncDatasource#create(DatasourceConfig)}.
     *
     * @param config the configuration
     * @return the datasource
     * @throws InvalidConfigurationException for an unusable configuration
     * @throws DatasourceException           if the migration fails
     * @throws BlockingCallException         on a non-blocking thread
     */
    public static BlockingDatasource create(DatasourceConfig config) {
        BlockingGuard.check("BlockingDatasource.create");
        return new BlockingDatasource(AsyncDatasource.create(config).block());
    }

    /**
     * A blocking view of an existing datasource; closing it closes that datasource.
     *
     * @param async the datasource
     * @return the facade
     * @throws InvalidInputException if {@code async} is null
     */
    public static BlockingDatasource wrap(AsyncDatasource async) {
        if (async == null) {
            throw new InvalidInputException("datasource must not be null");
        }
        return new BlockingDatasource(async);
    }

    /**
     * @return the reactive datasource behind this facade
     */
    public AsyncDatasource async() {
        return async;
    }

    /**
     * Runs a step with default options; see {@link #runTxStep(DatasourceOptions, Function)}.
     *
     * @param fn  the step's function
     * @param <R> the output's type
     * @return the step's output (null if the function returned null)
     */
    public <R> R runTxStep(Function<BlockingTxSession, R> fn) {
        return step(StepSpec.resolve(null, null, StepNames::ofCaller), fn);
    }

    /**
     * Runs a transaction step and waits for it: semantics, errors and retries as
     * {@link AsyncDatasource#runTxStepAsync(DatasourceOptions, Function)}. The function may be
     * called more than once (retries after serialization failures) and never again once the step
     * is recorded.
     *
     * @param options the step's name and isolation level; null for defaults
     * @param fn      the step's function, run on a worker thread with this step's session
     * @param <R>     the output's type
     * @return the step's output (null if the function returned null)
     * @throws InvalidInputException if {@code fn} is null
     * @throws BlockingCallException on a non-blocking thread
     */
    public <R> R runTxStep(DatasourceOptions options, Function<BlockingTxSession, R> fn) {
        return step(StepSpec.resolve(options, null, StepNames::ofCaller), fn);
    }

    /**
     * Wraps a function as a transaction step: each call of the returned function runs one step and
     * waits for it. The default name is the method that called {@code transaction}.
     *
     * @param options the steps' options; null for defaults
     * @param fn      the step's function, given the session and the call's argument
     * @param <A>     the argument's type
     * @param <R>     the output's type
     * @return a function that runs a step per call
     * @throws InvalidInputException if {@code fn} is null
     */
    public <A, R> Function<A, R> transaction(DatasourceOptions options, BiFunction<BlockingTxSession, A, R> fn) {
        if (fn == null) {
            throw new InvalidInputException("transaction function must not be null");
        }
        StepSpec spec = StepSpec.resolve(options, null, StepNames::ofCaller);
        return argument -> step(spec, session -> fn.apply(session, argument));
    }

    /**
     * The session of the step whose function is running on this thread.
     *
     * @return the session
     * @throws NoTransactionException outside a step of this datasource
     */
    public BlockingTxSession sqlSession() {
        BlockingTxSession session = currentSession.get();
        if (session == null) {
            throw new NoTransactionException("sqlSession() was called outside a transaction step of this datasource:"
                    + " call it from the function passed to runTxStep or transaction(...)");
        }
        return session;
    }

    /**
     * Closes the datasource and waits: running steps finish, new ones are refused; see
     * {@link AsyncDatasource#close()}.
     *
     * @throws BlockingCallException on a non-blocking thread
     */
    @Override
    public void close() {
        BlockingGuard.check("BlockingDatasource.close");
        async.close().block();
    }

    private <R> R step(StepSpec spec, Function<BlockingTxSession, R> fn) {
        BlockingGuard.check("BlockingDatasource.runTxStep");
        if (fn == null) {
            throw new InvalidInputException("step function must not be null");
        }
        // The caller's thread-bound context (its workflow, say) goes into the step's Reactor context,
        // where the engine finds the workflow; the function runs back on the calling thread, with
        // whatever the step added to that context (its key, an integration's entries) set there too.
        ContextSnapshot caller = SNAPSHOTS.captureAll();
        CallerThread callerThread = new CallerThread();
        Mono<R> step = async.step(spec, session -> Mono.deferContextual(ctx -> Mono.fromCallable(() -> {
            BlockingTxSession blocking = new BlockingSessionView(session);
            BlockingTxSession outer = currentSession.get();
            try (ContextSnapshot.Scope restored = SNAPSHOTS.setThreadLocalsFrom(ctx)) {
                currentSession.set(blocking);
                return fn.apply(blocking);
            } finally {
                if (outer == null) {
                    currentSession.remove();
                } else {
                    currentSession.set(outer);
                }
            }
        }).subscribeOn(callerThread.scheduler())));
        try {
            return callerThread.await(step.contextWrite(caller::updateContext));
        } catch (RuntimeException e) {
            // Like block(), the wait wraps what it cannot rethrow as is (an Error, a checked exception
            // thrown sneakily) in a Reactor-internal type: give the caller the function's own throwable.
            Throwable unwrapped = Exceptions.unwrap(e);
            if (unwrapped instanceof Error error) {
                throw error;
            }
            throw e;
        }
    }
}
