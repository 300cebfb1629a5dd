package dev.txstep.bench;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counts the operations that complete inside the timed window and their latencies. Workers report
 * every operation; outside the window (warm-up, drain) reports are ignored, so the window's
 * throughput is "operations completed between open and close" whatever was in flight at either end.
 *
 * <p>Thread-safe; one recorder per measurement.
 */
public final class Recorder {

    private final LatencyHistogram latencies = new LatencyHistogram();
    private final LongAdder ops = new LongAdder();
    private final LongAdder errors = new LongAdder();
    private final AtomicReference<Throwable> firstError = new AtomicReference<>();
    private volatile boolean open;
    private long openedAt;

    /**
     * Reports one completed operation.
     *
     * @param nanos its latency, from {@link System#nanoTime()} differences
     */
    public void completed(long nanos) {
        if (open) {
            ops.increment();
            latencies.record(TimeUnit.NANOSECONDS.toMicros(nanos));
        }
    }

    /**
     * Reports a failed operation (its latency is not counted). The first error of the window is
     * kept for the report.
     *
     * @param error what failed
     */
    public void failed(Throwable error) {
        if (open) {
            errors.increment();
            firstError.compareAndSet(null, error);
        }
    }

    /** Starts the timed window, forgetting everything reported before. */
    public void open() {
        latencies.reset();
        ops.reset();
        errors.reset();
        firstError.set(null);
        openedAt = System.nanoTime();
        open = true;
    }

    /**
     * Ends the timed window.
     *
     * @return what completed in it
     */
    public Window close() {
        open = false;
        double seconds = (System.nanoTime() - openedAt) / 1e9;
        Throwable error = firstError.get();
        return new Window(ops.sum(), seconds, latencies.percentile(50) / 1000.0, latencies.percentile(99) / 1000.0,
                errors.sum(), error == null ? null : error.getClass().getSimpleName() + ": " + error.getMessage());
    }

    /**
     * What one timed window measured.
     *
     * @param ops        operations completed in the window
     * @param seconds    the window's real length
     * @param p50Ms      median latency of those operations, milliseconds
     * @param p99Ms      99th percentile latency, milliseconds
     * @param errors     operations that failed in the window
     * @param firstError the first failure's type and message, or null
     */
    public record Window(long ops, double seconds, double p50Ms, double p99Ms, long errors, String firstError) {

        /** @return operations per second */
        public double opsPerSecond() {
            return ops / seconds;
        }
    }
}
