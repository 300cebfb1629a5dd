package dev.txstep;

import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicReference;
import reactor.core.Disposable;
import reactor.core.Exceptions;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * The thread that called the blocking facade, lent to its own step: the step's function runs on
 * it while the step's reactive work (acquiring, beginning, committing) runs where the driver runs
 * it. The caller waits for the step anyway, so its thread is free: running the function there
 * costs no hop to a worker and no worker at all, so the facade has no ceiling of its own (a
 * {@code boundedElastic} worker pool caps it at ten threads per core), and the caller's
 * thread-bound state is simply there.
 *
 * <p>One per facade call: {@link #await} subscribes to the step and runs the tasks the step hands
 * to {@link #scheduler()} on the calling thread, one after another, until the step ends. A nested
 * step started by the function makes its own and drains it on the same thread, inside the outer
 * task. Tasks handed over after the step ended are dropped (none are: the function is the last
 * thing the step schedules here before it commits).
 */
final class CallerThread implements Executor {

    /** Handed over when the step ends, to wake the waiting thread. */
    private static final Runnable END = () -> {
    };

    private final BlockingQueue<Runnable> tasks = new LinkedBlockingQueue<>();
    private final Scheduler scheduler = Schedulers.fromExecutor(this, true);

    @Override
    public void execute(Runnable task) {
        tasks.add(task);
    }

    /** The scheduler whose tasks run on the thread waiting in {@link #await}. */
    Scheduler scheduler() {
        return scheduler;
    }

    /**
     * Subscribes to {@code step} and runs the tasks handed to this executor on the calling thread
     * until the step ends.
     *
     * @return the step's value, or null for none
     * @throws RuntimeException the step's error, as {@code Mono.block()} raises it; if the calling
     *                          thread is interrupted, the step is cancelled and the interrupt is
     *                          raised as {@code block()} raises it, the thread's flag set again
     */
    <R> R await(Mono<R> step) {
        AtomicReference<R> value = new AtomicReference<>();
        AtomicReference<Throwable> error = new AtomicReference<>();
        Disposable subscription = step.doFinally(signal -> execute(END))
                .subscribe(value::set, error::set);
        try {
            for (Runnable task = tasks.take(); task != END; task = tasks.take()) {
                task.run();
            }
        } catch (InterruptedException e) {
            subscription.dispose();
            Thread.currentThread().interrupt();
            throw Exceptions.propagate(e);
        }
        Throwable failure = error.get();
        if (failure != null) {
            throw Exceptions.propagate(failure);
        }
        return value.get();
    }
}
