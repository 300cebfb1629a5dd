package dev.txstep.bench;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * A thread-safe histogram of latencies in microseconds with about 3 % resolution: exact below
 * 64 µs, then 32 buckets per power of two. Recording is one atomic increment, so it can sit on the
 * measured path of 64 concurrent operations without a lock or an allocation.
 */
final class LatencyHistogram {

    private static final int LINEAR = 64;          // values below are their own bucket
    private static final int SUB_BUCKET_BITS = 5;  // 32 buckets per power of two above
    private static final int SUB_BUCKETS = 1 << SUB_BUCKET_BITS;
    private static final int MAX_EXPONENT = 40;    // 2^40 µs is 12 days; larger values are clamped

    private final AtomicLongArray counts =
            new AtomicLongArray(LINEAR + (MAX_EXPONENT - SUB_BUCKET_BITS) * SUB_BUCKETS);

    /**
     * Counts one latency.
     *
     * @param micros the latency in microseconds; negative counts as zero
     */
    void record(long micros) {
        counts.incrementAndGet(indexOf(Math.max(0, micros)));
    }

    /** Forgets every recorded value. */
    void reset() {
        for (int i = 0; i < counts.length(); i++) {
            counts.set(i, 0);
        }
    }

    /**
     * The value at a percentile, as the middle of the bucket holding it.
     *
     * @param percentile 0 < p <= 100
     * @return the latency in microseconds, or 0 if nothing was recorded
     */
    double percentile(double percentile) {
        long total = 0;
        for (int i = 0; i < counts.length(); i++) {
            total += counts.get(i);
        }
        if (total == 0) {
            return 0;
        }
        long rank = (long) Math.ceil(percentile / 100.0 * total);
        long seen = 0;
        for (int i = 0; i < counts.length(); i++) {
            seen += counts.get(i);
            if (seen >= rank) {
                return middleOf(i);
            }
        }
        return middleOf(counts.length() - 1);
    }

    private static int indexOf(long micros) {
        if (micros < LINEAR) {
            return (int) micros;
        }
        int exponent = Math.min(63 - Long.numberOfLeadingZeros(micros), MAX_EXPONENT - 1);
        long clamped = Math.min(micros, (1L << (exponent + 1)) - 1);
        int sub = (int) (clamped >>> (exponent - SUB_BUCKET_BITS)) & (SUB_BUCKETS - 1);
        return LINEAR + (exponent - 6) * SUB_BUCKETS + sub;
    }

    private static double middleOf(int index) {
        if (index < LINEAR) {
            return index;
        }
        int exponent = 6 + (index - LINEAR) / SUB_BUCKETS;
        int sub = (index - LINEAR) % SUB_BUCKETS;
        long width = 1L << (exponent - SUB_BUCKET_BITS);
        long lower = (SUB_BUCKETS + sub) * width;
        return lower + (width - 1) / 2.0;
    }
}
