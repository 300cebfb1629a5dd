package dev.txstep.bench;

/**
 * One cell of the benchmark's grid: how many operations are in flight, at which isolation level.
 *
 * @param concurrency operations (or workflows) in flight at once; also every variant's connection
 *                    count, see {@link #poolSize()}
 * @param isolation   the isolation level of every transaction
 */
public record Setting(int concurrency, Isolation isolation) {

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
        return "c=" + concurrency + " " + isolation;
    }
}
