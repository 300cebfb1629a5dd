package dev.txstep.internal.engine;

import dev.txstep.DatasourceException;
import dev.txstep.InvalidInputException;
import dev.txstep.RecordedStepException;
import dev.txstep.StepKey;
import dev.txstep.TxSession;
import dev.txstep.spi.WorkflowScope;
import io.r2dbc.spi.Connection;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Future;
import java.util.function.Function;
import org.reactivestreams.Publisher;
import reactor.core.CorePublisher;
import reactor.core.CoreSubscriber;
import reactor.core.Exceptions;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Operators;
import reactor.util.context.Context;

/**
 * Calls a step's function in its begun transaction and takes its one value. The function's own
 * errors come out as {@link StepFailure.FunctionFailed} (its outcome, to be judged after the
 * rollback); txstep's verdicts on what it returned — a null publisher, two values, an
 * asynchronous value — as {@link InvalidInputException}, which is never recorded.
 *
 * <p>Written as one publisher and one subscriber instead of a chain of operators ({@code defer},
 * {@code onErrorMap}, {@code singleOrEmpty}, {@code map}, {@code defaultIfEmpty},
 * {@code contextWrite}): every step passes here, and each operator is a subscriber of its own that
 * every signal crosses. The profile of issue 15 charged half of txstep's client cost above the
 * limit's to Reactor's operators on the step's path (BENCHMARKS.md).
 *
 * <p>On subscribe: builds the function's context (a contributor's exception fails the attempt
 * as is), calls the function, and subscribes to its publisher with that context, requesting
 * everything. The first value is kept; a second cancels the function's publisher and fails the
 * step. Completion emits the value (empty for none). Cancelling cancels the function's publisher.
 */
final class FunctionCall<R> extends Mono<Optional<Object>> {

    private final Connection conn;
    private final StepKey key;
    private final StepSpec spec;
    private final Function<TxSession, ? extends Publisher<R>> fn;
    private final Object sessionKey;
    private final FunctionContext functionContext;

    private FunctionCall(Connection conn, StepKey key, StepSpec spec, Function<TxSession, ? extends Publisher<R>> fn,
            Object sessionKey, FunctionContext functionContext) {
        this.conn = conn;
        this.key = key;
        this.spec = spec;
        this.fn = fn;
        this.sessionKey = sessionKey;
        this.functionContext = functionContext;
    }

    /**
     * @param key        the step's key; null for a step that records nothing
     * @param sessionKey the engine's key for the running session in the function's Reactor context
     * @param functionContext what else the function's Reactor context holds
     * @return on subscribe, calls the function; emits its value (empty for none); the transaction
     *         stays open
     */
    static <R> Mono<Optional<Object>> call(Connection conn, StepKey key, StepSpec spec,
            Function<TxSession, ? extends Publisher<R>> fn, Object sessionKey, FunctionContext functionContext) {
        return new FunctionCall<>(conn, key, spec, fn, sessionKey, functionContext);
    }

    @Override
    public void subscribe(CoreSubscriber<? super Optional<Object>> actual) {
        TxSession session = new DefaultTxSession(conn, key);
        Context context;
        try {
            Context withSession = actual.currentContext().put(sessionKey, session);
            context = functionContext.of(key == null ? withSession : withSession.put(WorkflowScope.RUNNING_STEP_KEY, key),
                    conn);
        } catch (Throwable error) {
            Exceptions.throwIfJvmFatal(error);
            Operators.error(actual, Operators.onOperatorError(error, actual.currentContext()));
            return;
        }
        Publisher<R> publisher;
        try {
            publisher = fn.apply(session);
        } catch (Throwable error) {
            Exceptions.throwIfJvmFatal(error);
            Operators.error(actual, asFunctionError(error));
            return;
        }
        if (publisher == null) {
            Operators.error(actual, new InvalidInputException("the function of step '" + spec.name()
                    + "' returned a null publisher; return Mono.empty() for no value"));
            return;
        }
        // A Reactor publisher takes the subscriber as is; any other goes through Flux.from, which
        // adapts it as Reactor adapts every foreign publisher (thread-local restoration included).
        Publisher<R> source = publisher instanceof CorePublisher ? publisher : Flux.from(publisher);
        source.subscribe(new OneValue<>(actual, context, spec));
    }

    /** Takes the function's one value, or none; fails the step on a second. */
    private static final class OneValue<R> extends TerminalSubscriber<R, Optional<Object>> {

        private final StepSpec spec;
        private R first;

        OneValue(CoreSubscriber<? super Optional<Object>> actual, Context context, StepSpec spec) {
            super(actual, context);
            this.spec = spec;
        }

        @Override
        void value(R value) {
            if (first == null) {
                first = value;
                return;
            }
            Operators.onDiscard(value, currentContext());
            Operators.onDiscard(first, currentContext());
            first = null;
            failNow(new InvalidInputException("the function of step '" + spec.name() + "' emitted more than one"
                    + " value; a step emits at most one (collect a Flux into a list first). The transaction was"
                    + " rolled back"));
        }

        @Override
        void failed(Throwable error) {
            first = null;
            actual.onError(asFunctionError(error));
        }

        @Override
        void completed() {
            R value = first;
            first = null;
            if (value == null) {
                complete(Optional.empty());
            } else if (isAsynchronous(value)) {
                actual.onError(asynchronousValue(spec, value));
            } else {
                complete(Optional.of(value));
            }
        }
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
}
