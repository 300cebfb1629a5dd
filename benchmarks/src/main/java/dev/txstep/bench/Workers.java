package dev.txstep.bench;

/** Workers that repeat a variant's operation until stopped: reactive loops or platform threads. */
interface Workers {

    /** Starts the workers; returns at once. */
    void start();

    /**
     * Asks the workers to stop after their current operation and waits until they have.
     *
     * @throws Exception if a worker did not stop in time
     */
    void stop() throws Exception;
}
