package dev.txstep.bench;

/**
 * What an in-process variant runs for one measurement: workers that repeat the variant's operation
 * and report it to a {@link Recorder}, and the resources they use.
 */
interface Load extends AutoCloseable {

    /** Starts the workers; returns at once. */
    void start();

    /**
     * Asks the workers to stop after their current operation and waits until they have.
     *
     * @throws Exception if a worker did not stop in time
     */
    void stop() throws Exception;

    /** @return what the reader should know about this measurement, or null */
    default String note() {
        return null;
    }

    /** Releases the resources (pools, datasources); called after {@link #stop()}. */
    @Override
    void close() throws Exception;
}
