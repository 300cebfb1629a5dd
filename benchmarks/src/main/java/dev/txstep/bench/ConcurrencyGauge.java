package dev.txstep.bench;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * Counts the threads inside a region of code and remembers the most there were at once: how the
 * blocking variant sees whether a thread pool caps it.
 */
final class ConcurrencyGauge {

    private final AtomicInteger inside = new AtomicInteger();
    private final AtomicInteger peak = new AtomicInteger();

    /** A thread enters the region. */
    void enter() {
        peak.accumulateAndGet(inside.incrementAndGet(), Math::max);
    }

    /** A thread leaves the region. */
    void exit() {
        inside.decrementAndGet();
    }

    /** @return the most threads that were inside at once */
    int peak() {
        return peak.get();
    }
}
