package dev.txstep.bench;

/**
 * One way of running the benchmark's transaction, measured one setting at a time. A variant opens
 * what a measurement needs (pools, datasources, a process) before its timed window and releases it
 * after, so variants measured in turn do not hold connections against each other.
 */
public interface Variant extends AutoCloseable {

    /** @return the short name used in results, e.g. {@code txstep-first} */
    String name();

    /** @return one line for the report: what this variant runs */
    String description();

    /**
     * Runs one measurement: prepares, warms up, counts operations in the timed window, drains and
     * releases.
     *
     * @param setting concurrency and isolation
     * @param timing  warm-up and window
     * @param round   the round, from 1, for the sample
     * @return the sample
     * @throws Exception if the variant cannot run; the harness reports it and goes on
     */
    Sample measure(Setting setting, Timing timing, int round) throws Exception;

    /** Releases what the variant kept across measurements; by default nothing. */
    @Override
    default void close() throws Exception {
    }
}
