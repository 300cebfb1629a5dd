package dev.txstep.bench;

import java.time.Duration;

/**
 * How long one measurement runs: a warm-up whose operations are not counted (pools filled, JIT and
 * caches warm), then the timed window.
 *
 * @param warmup the untimed run before the window, zero or more
 * @param window the timed window, positive
 */
public record Timing(Duration warmup, Duration window) {

    /**
     * Checks the durations.
     *
     * @throws IllegalArgumentException if the warm-up is negative or the window not positive
     */
    public Timing {
        if (warmup == null || warmup.isNegative()) {
            throw new IllegalArgumentException("warm-up must be zero or more, was " + warmup);
        }
        if (window == null || window.isNegative() || window.isZero()) {
            throw new IllegalArgumentException("window must be positive, was " + window);
        }
    }
}
