package dev.txstep.observe;

/** How a step ended, as a {@link StepObserver} sees it. */
public enum StepOutcome {
    /** The function ran and its transaction committed (with its output row, when recorded). */
    EXECUTED,
    /** The step was recorded already: its recorded output or error was returned, nothing ran. */
    REPLAYED,
    /**
     * Another executor of the same workflow recorded the step first (a duplicate race): this
     * attempt rolled back and returned the winner's recorded outcome.
     */
    CONFLICTED,
    /** The step ended in an error: its function's (recorded), a replayed one, or retries ran out. */
    FAILED
}
