package dev.txstep;

import dev.txstep.internal.Texts;

/**
 * Identifies one step of one workflow: the primary key of its recorded output.
 *
 * <p>{@code stepId} is the step's position in its workflow execution: the first step is 0 and
 * every step the workflow runs takes the next id, so the same code replayed gets the same ids.
 *
 * @param workflowId the workflow's id; not blank, at most {@value #MAX_WORKFLOW_ID_LENGTH}
 *                   characters, no NUL character or unpaired surrogate
 * @param stepId     the step's position, zero or more
 */
public record StepKey(String workflowId, int stepId) {

    /** The longest workflow id accepted, in characters. */
    public static final int MAX_WORKFLOW_ID_LENGTH = 1024;

    /**
     * Validates the key.
     *
     * @param workflowId the workflow's id
     * @param stepId     the step's position, zero or more
     * @throws InvalidInputException if the workflow id is invalid (see {@link #requireValidWorkflowId})
     *                               or {@code stepId} is negative
     */
    public StepKey {
        requireValidWorkflowId(workflowId);
        if (stepId < 0) {
            throw new InvalidInputException("step id must be zero or more, was " + stepId
                    + " (workflow '" + workflowId + "')");
        }
    }

    /**
     * Checks a workflow id: not null, not blank, at most {@value #MAX_WORKFLOW_ID_LENGTH}
     * characters, and free of NUL characters and unpaired surrogates (which no SQL text column
     * stores as given: two such ids could share a record).
     *
     * @param workflowId the id to check
     * @return the id, unchanged
     * @throws InvalidInputException naming what is wrong with it
     */
    public static String requireValidWorkflowId(String workflowId) {
        if (workflowId == null) {
            throw new InvalidInputException("workflow id must not be null");
        }
        if (workflowId.isBlank()) {
            throw new InvalidInputException("workflow id must not be blank");
        }
        if (workflowId.length() > MAX_WORKFLOW_ID_LENGTH) {
            throw new InvalidInputException("workflow id is " + workflowId.length()
                    + " characters long; the limit is " + MAX_WORKFLOW_ID_LENGTH);
        }
        String unstorable = Texts.unstorable(workflowId);
        if (unstorable != null) {
            throw new InvalidInputException("workflow id must not contain " + unstorable
                    + ": it would not be stored as given, and distinct ids could share a record");
        }
        return workflowId;
    }

    @Override
    public String toString() {
        return "(" + workflowId + ", " + stepId + ")";
    }
}
