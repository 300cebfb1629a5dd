package dev.txstep.internal;

import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * The threads txstep runs blocking work on: an embedded database's statements and the functions
 * of the blocking facade's steps.
 *
 * <p>They are {@link Schedulers#boundedElastic()}'s threads, reached through an executor rather
 * than through that scheduler's workers. A worker of {@code boundedElastic} cancels a task that is
 * still running by <em>interrupting</em> its thread, and Reactor disposes a {@code subscribeOn}
 * worker from whatever thread the step completes or is cancelled on. H2 answers an interrupt by
 * closing its file channel: the step fails with {@code ClosedByInterruptException}, and every
 * later statement on that database fails with it. Tasks handed over as plain runnables are
 * never interrupted: a cancelled step's function runs to its end, and the step's gate refuses its
 * late statements. Tasks of one worker run one at a time, in order.
 */
public final class WorkerThreads {

    private static final Scheduler SCHEDULER = Schedulers.fromExecutor(
            task -> Schedulers.boundedElastic().schedule(task), true);

    private WorkerThreads() {
    }

    /**
     * The scheduler for blocking work.
     *
     * @return a scheduler over {@code boundedElastic}'s threads; cancelling what runs on it never
     *         interrupts a thread
     */
    public static Scheduler scheduler() {
        return SCHEDULER;
    }
}
