package dev.txstep.test;

import dev.txstep.StepKey;

/**
 * One scenario the kit ran, as given to a {@link ScenarioCheck} and named in failures.
 *
 * @param kind       what was done to the workflow
 * @param workflowId the workflow id this scenario ran under: the workflow's id, a slash and the
 *                   scenario's name (each scenario has its own recorded steps)
 * @param step       the step the fault hit, for {@link ScenarioKind#INTERRUPTED_AFTER_STEP} and
 *                   {@link ScenarioKind#COMMIT_ACKNOWLEDGEMENT_LOST}; else null
 * @param stepName   that step's name; else null
 * @param executions how many times the workflow was run in this scenario
 */
public record Scenario(ScenarioKind kind, String workflowId, StepKey step, String stepName, int executions) {

    /**
     * A short name: {@code reference}, {@code interrupted-after-2}, {@code commit-ack-lost-2},
     * {@code duplicates-4}.
     *
     * @return the name, also the last part of {@link #workflowId()}
     */
    public String name() {
        return name(kind, step == null ? -1 : step.stepId(), executions);
    }

    static String name(ScenarioKind kind, int stepId, int executions) {
        return switch (kind) {
            case REFERENCE -> "reference";
            case INTERRUPTED_AFTER_STEP -> "interrupted-after-" + stepId;
            case COMMIT_ACKNOWLEDGEMENT_LOST -> "commit-ack-lost-" + stepId;
            case CONCURRENT_DUPLICATES -> "duplicates-" + executions;
        };
    }

    @Override
    public String toString() {
        return step == null ? "scenario '" + name() + "' (workflow " + workflowId + ")"
                : "scenario '" + name() + "' at step " + step + " '" + stepName + "'";
    }
}
