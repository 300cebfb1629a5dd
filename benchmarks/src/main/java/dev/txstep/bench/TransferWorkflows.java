package dev.txstep.bench;

/**
 * The DBOS Java workflow interface the benchmark registers ({@code DBOS.registerProxy} proxies an
 * interface).
 */
public interface TransferWorkflows {

    /**
     * Runs the benchmark's transaction {@code steps} times, each a recorded DBOS transaction step.
     *
     * @param steps how many steps
     * @return {@code steps}
     */
    int transfers(int steps);
}
