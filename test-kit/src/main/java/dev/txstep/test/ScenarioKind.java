package dev.txstep.test;

/** The kinds of run {@link WorkflowTestKit} puts a workflow through. */
public enum ScenarioKind {
    /** One uninterrupted run: its outcome and its steps are the reference for every other scenario. */
    REFERENCE,
    /**
     * The workflow is cancelled right after one step commits — nothing after that step runs, as when
     * the process dies there — then run again to completion.
     */
    INTERRUPTED_AFTER_STEP,
    /**
     * The database commits one step, but the answer to its {@code COMMIT} is lost (the connection
     * fails with SQLSTATE 08006); the run goes on as txstep decides, then the workflow is run again.
     */
    COMMIT_ACKNOWLEDGEMENT_LOST,
    /** Several executions of the same workflow id, subscribed at once. */
    CONCURRENT_DUPLICATES
}
