package dev.txstep.internal.engine;

import org.reactivestreams.Subscription;
import reactor.core.CoreSubscriber;
import reactor.core.publisher.Operators;
import reactor.util.context.Context;

/**
 * What {@link FunctionCall}'s and {@link StepCompletion}'s subscribers share: each subscribes to
 * one upstream with a context of its own, requests everything, and emits at most one value when
 * the upstream ends. This class keeps the upstream and the terminal state: signals after the end
 * are dropped as Reactor drops them, cancelling cancels the upstream, and a subclass only says what
 * a value, an error and the completion mean ({@link #value}, {@link #failed}, {@link #completed}).
 *
 * @param <I> what the upstream emits
 * @param <O> what the subscriber emits
 */
abstract class TerminalSubscriber<I, O> extends Operators.MonoSubscriber<I, O> {

    private final Context context;
    private Subscription upstream;
    private boolean done;

    /** @param context the context the upstream sees */
    TerminalSubscriber(CoreSubscriber<? super O> actual, Context context) {
        super(actual);
        this.context = context;
    }

    /** A value of the upstream, before its end. */
    abstract void value(I value);

    /** The upstream failed; called once, instead of {@link #completed}. */
    abstract void failed(Throwable error);

    /** The upstream completed; called once, unless {@link #failNow} ended the subscription first. */
    abstract void completed();

    /** Ends the subscription early with {@code error}: cancels the upstream; later signals are dropped. */
    final void failNow(Throwable error) {
        done = true;
        upstream.cancel();
        actual.onError(error);
    }

    @Override
    public final Context currentContext() {
        return context;
    }

    @Override
    public final void onSubscribe(Subscription s) {
        if (Operators.validate(upstream, s)) {
            upstream = s;
            actual.onSubscribe(this);
            s.request(Long.MAX_VALUE);
        }
    }

    @Override
    public final void onNext(I value) {
        if (done) {
            Operators.onNextDropped(value, context);
            return;
        }
        value(value);
    }

    @Override
    public final void onError(Throwable error) {
        if (done) {
            Operators.onErrorDropped(error, context);
            return;
        }
        done = true;
        failed(error);
    }

    @Override
    public final void onComplete() {
        if (done) {
            return;
        }
        done = true;
        completed();
    }

    @Override
    public void cancel() {
        super.cancel();
        upstream.cancel();
    }

    @Override
    public Object scanUnsafe(Attr key) {
        if (key == Attr.PARENT) {
            return upstream;
        }
        if (key == Attr.TERMINATED) {
            return done;
        }
        return super.scanUnsafe(key);
    }
}
