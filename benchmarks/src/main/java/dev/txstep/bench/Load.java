package dev.txstep.bench;

import java.util.function.Supplier;

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

    /**
     * A load made of workers, a note read after they stopped, and the resources they used.
     *
     * @param workers   what runs the operation
     * @param note      the measurement's note, or null for none; read after {@link #stop()}
     * @param resources what {@link #close()} releases
     * @return the load
     */
    static Load of(Workers workers, Supplier<String> note, AutoCloseable resources) {
        return new Load() {
            @Override
            public void start() {
                workers.start();
            }

            @Override
            public void stop() throws Exception {
                workers.stop();
            }

            @Override
            public String note() {
                return note == null ? null : note.get();
            }

            @Override
            public void close() throws Exception {
                resources.close();
            }
        };
    }
}
