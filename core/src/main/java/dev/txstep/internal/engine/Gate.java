package dev.txstep.internal.engine;

import java.util.concurrent.atomic.AtomicInteger;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * Admits steps until closed, then tells when the admitted ones have finished. Entering counts
 * before checking, so a step racing with {@link #close()} is either refused or waited for.
 */
final class Gate {

    private final AtomicInteger inFlight = new AtomicInteger();
    private final Sinks.Empty<Void> drained = Sinks.empty();
    private volatile boolean closed;

    boolean enter() {
        inFlight.incrementAndGet();
        if (closed) {
            exit();
            return false;
        }
        return true;
    }

    void exit() {
        if (inFlight.decrementAndGet() == 0 && closed) {
            drained.tryEmitEmpty();
        }
    }

    /** Refuses new steps; completes when the admitted ones have finished. */
    Mono<Void> close() {
        closed = true;
        if (inFlight.get() == 0) {
            drained.tryEmitEmpty();
        }
        return drained.asMono();
    }
}
