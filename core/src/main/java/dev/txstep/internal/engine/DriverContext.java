package dev.txstep.internal.engine;

import java.util.List;
import org.reactivestreams.Subscription;
import reactor.core.CoreSubscriber;
import reactor.core.Scannable;
import reactor.util.context.Context;

/**
 * The Reactor context a step's requests reach the pool and the driver with: the subscriber's,
 * without txstep's own entries (the workflow scope, the running step's key, the step's session and
 * observer). Every other entry passes, so that a driver proxy still finds, say, the tracing
 * observation it nests its query spans under.
 *
 * <p>Why: with context-propagation on the class path, Reactor's {@code handle} operators restore
 * thread locals from their subscriber's context on every signal whenever that context is not empty,
 * and r2dbc-postgresql decodes every backend message through such operators. A step's own entries
 * made that context non-empty in every Reactor pipeline, so each message paid a snapshot of the
 * registered thread locals: 6.4 KB allocated per step, and 5.4 % of the CPU samples of a step
 * against 1.9 % for the same transaction without txstep, in the profile of issue 15
 * (BENCHMARKS.md). The driver has no use for txstep's entries; the step's function, which does,
 * still has them in its own context.
 */
final class DriverContext {

    private final List<Object> hiddenKeys;

    /** @param hiddenKeys the context keys the driver does not see */
    DriverContext(List<Object> hiddenKeys) {
        this.hiddenKeys = List.copyOf(hiddenKeys);
    }

    /** {@code context} without the hidden keys; the same instance when it holds none of them. */
    Context of(Context context) {
        Context result = context;
        for (Object key : hiddenKeys) {
            if (result.hasKey(key)) {
                result = result.delete(key);
            }
        }
        return result;
    }

    /**
     * The subscriber a driver's publisher is subscribed with: {@code actual} itself when its
     * context holds no hidden key, else a pass-through that reports {@code hidden} as its context.
     *
     * @param hidden {@link #of} {@code actual}'s context, computed by the caller (who may reuse it)
     */
    static <T> CoreSubscriber<? super T> subscriber(CoreSubscriber<? super T> actual, Context hidden) {
        return hidden == actual.currentContext() ? actual : new Hiding<T>(actual, hidden);
    }

    /** Passes every signal on; only its context differs from its subscriber's. */
    private static final class Hiding<T> implements CoreSubscriber<T>, Scannable {

        private final CoreSubscriber<? super T> actual;
        private final Context context;

        Hiding(CoreSubscriber<? super T> actual, Context context) {
            this.actual = actual;
            this.context = context;
        }

        @Override
        public Context currentContext() {
            return context;
        }

        @Override
        public void onSubscribe(Subscription s) {
            actual.onSubscribe(s);
        }

        @Override
        public void onNext(T t) {
            actual.onNext(t);
        }

        @Override
        public void onError(Throwable t) {
            actual.onError(t);
        }

        @Override
        public void onComplete() {
            actual.onComplete();
        }

        @Override
        public Object scanUnsafe(Attr key) {
            return key == Attr.ACTUAL ? actual : null;
        }
    }
}
