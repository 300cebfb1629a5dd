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
import reactor.core.Exceptions;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Calls a step's function in its begun transaction and takes its one value. The function's own
 * errors come out as {@link StepFailure.FunctionFailed} (its outcome, to be judged after the
 * rollback); txstep's verdicts on what it returned — a null publisher, two values, an
 * asynchronous value — as {@link InvalidInputException}, which is never recorded.
 */
final class FunctionCall {

    private FunctionCall() {
    }

    /**
     * @param sessionKey the engine's key for the running session in the function's Reactor context
     * @param functionContext what else the function's Reactor context holds
     * @return on subscribe, calls the function; emits its value (empty for none); the transaction
     *         stays open
     */
    static <R> Mono<Optional<Object>> call(Connection conn, StepKey key, StepSpec spec,
            Function<TxSession, ? extends Publisher<R>> fn, Object sessionKey, FunctionContext functionContext) {
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
                    .onErrorMap(FunctionCall::asFunctionError)
                    .singleOrEmpty()
                    .onErrorMap(IndexOutOfBoundsException.class, e -> new InvalidInputException("the function of step '"
                            + spec.name() + "' emitted more than one value; a step emits at most one (collect a"
                            + " Flux into a list first). The transaction was rolled back"))
                    // map, not handle: a handle operator restores thread locals for every value.
                    .<Optional<Object>>map(value -> {
                        if (isAsynchronous(value)) {
                            throw asynchronousValue(spec, value);
                        }
                        return Optional.of(value);
                    })
                    .defaultIfEmpty(Optional.empty())
                    .contextWrite(ctx -> functionContext.of(key == null ? ctx.put(sessionKey, session)
                            : ctx.put(sessionKey, session).put(WorkflowScope.RUNNING_STEP_KEY, key), conn));
        });
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
