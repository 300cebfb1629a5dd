package dev.txstep;

import reactor.core.scheduler.Schedulers;

/** Refuses blocking calls on threads that must never block. */
final class BlockingGuard {

    private BlockingGuard() {
    }

    /**
     * @param what the blocking call, for the message
     * @throws BlockingCallException on a non-blocking (event-loop) thread
     */
    static void check(String what) {
        if (Schedulers.isInNonBlockingThread()) {
            throw new BlockingCallException(what + " blocks, and was called on the non-blocking thread '"
                    + Thread.currentThread().getName() + "': use AsyncDatasource (runTxStepAsync) from reactive"
                    + " code, or move the call to Schedulers.boundedElastic()");
        }
    }
}
