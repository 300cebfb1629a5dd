package dev.txstep.test;

import java.util.List;

/**
 * The scenarios a workflow failed in {@link WorkflowTestKit#run()}. An {@link AssertionError}, so
 * any test framework reports it as a failed test; the message has one line per failure, each
 * naming its scenario and, for the fault scenarios, the step key (workflow id and step id) and
 * step name. Errors behind the failures (the run's error, your check's) are attached as suppressed
 * exceptions.
 */
public final class WorkflowTestKitFailure extends AssertionError {

    private static final long serialVersionUID = 1L;

    /** The failures, one line each. */
    private final List<String> failures;

    /**
     * Creates the failure.
     *
     * @param workflowId the workflow under test
     * @param failures   one line per failure, each naming its scenario
     */
    public WorkflowTestKitFailure(String workflowId, List<String> failures) {
        super("workflow '" + workflowId + "' is not exactly-once in " + failures.size() + " check(s):\n  "
                + String.join("\n  ", failures));
        this.failures = List.copyOf(failures);
    }

    /**
     * The failures, one line each.
     *
     * @return each failure, naming its scenario and step
     */
    public List<String> failures() {
        return failures;
    }
}
