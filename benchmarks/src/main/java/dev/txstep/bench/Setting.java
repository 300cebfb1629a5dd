package dev.txstep.bench;

/**
 * One cell of the benchmark's grid: how many operations are in flight, at which isolation level.
 *
 * @param concurrency operations (or workflows) in flight at once; also every variant's connection
 *                    count, see {@link #poolSize()}
 * @param isolation   the isolation level of every transaction
 * @param outputBytes the length of the step's serialized output that the txstep variants record
 *                    and the limit variant writes: {@value #DEFAULT_OUTPUT_BYTES} means the
 *                    transfer's own output (the row count, a {@code Long} that txstep's default
 *                    serializer writes as {@code ["java.lang.Long",1]}, 20 bytes); 2 or more makes
 *                    the step return a string that serializes to that many bytes (see
 *                    {@link StepOutputs}). Variants that record nothing ignore it.
 */
public record Setting(int concurrency, Isolation isolation, int outputBytes) {

    /** Not a size: the transfer's own output, its row count (a {@code Long}). */
    public static final int DEFAULT_OUTPUT_BYTES = 0;

    /**
     * A setting with the transfer's own output.
     *
     * @param concurrency operations in flight
     * @param isolation   the isolation level
     */
    public Setting(int concurrency, Isolation isolation) {
        this(concurrency, isolation, DEFAULT_OUTPUT_BYTES);
    }

    /**
     * Checks the concurrency.
     *
     * @throws IllegalArgumentException if {@code concurrency} is less than 1 or {@code isolation} null
     */
    public Setting {
        if (concurrency < 1) {
            throw new IllegalArgumentException("concurrency must be at least 1, was " + concurrency);
        }
        if (isolation == null) {
            throw new IllegalArgumentException("isolation must not be null");
        }
        if (outputBytes < 0 || outputBytes == 1) {
            throw new IllegalArgumentException("outputBytes must be 0 (the row count) or at least 2, was "
                    + outputBytes);
        }
    }

    /**
     * The size of the application connection pool every variant gets: one connection per operation
     * in flight, opened before the timed window. Equal counts keep the comparison about the code
     * path, not about queueing for connections; and a pool of 64 still fits PostgreSQL's default
     * {@code max_connections} of 100 next to DBOS's system-database pool.
     *
     * @return the pool size
     */
    public int poolSize() {
        return concurrency;
    }

    /**
     * The size of the DBOS system-database pool (DBOS Java and DBOS TS): the concurrency, at least 4
     * (DBOS's background work needs connections of its own) and at most 16 (app pool 64 + 16 stays
     * below {@code max_connections} = 100 with room for other clients). DBOS's default is 10.
     *
     * @return the system pool size
     */
    public int dbosSystemPoolSize() {
        return Math.max(4, Math.min(concurrency, 16));
    }

    @Override
    public String toString() {
        return "c=" + concurrency + " " + isolation + (outputBytes == DEFAULT_OUTPUT_BYTES ? "" : " out=" + outputBytes + "B");
    }
}
