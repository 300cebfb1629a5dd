package dev.txstep.micrometer;

import io.micrometer.common.docs.KeyName;

/**
 * The keys {@link DefaultStepObservationConvention} puts on the {@code txstep.step} observation:
 * low-cardinality ones (tags of the meters an observation handler makes, and span attributes)
 * and high-cardinality ones (span attributes only).
 */
public enum StepObservationKeys implements KeyName {

    /**
     * Low cardinality: the step's name. Bounded because names are code, not data: they come from
     * {@code DatasourceOptions.named} or the declaring method, never from a request.
     */
    STEP_NAME("txstep.step.name", false),
    /**
     * Low cardinality: how the step ended: {@code executed}, {@code replayed}, {@code conflicted}
     * or {@code failed} ({@link dev.txstep.observe.StepOutcome}); {@code unknown} while it runs.
     */
    OUTCOME("txstep.step.outcome", false),
    /** Low cardinality: the transaction's isolation level, e.g. {@code SERIALIZABLE}. */
    ISOLATION("txstep.isolation", false),
    /** Low cardinality: {@code true} for a read-only step (which records nothing), else {@code false}. */
    READ_ONLY("txstep.read-only", false),
    /** High cardinality: the workflow id of a recorded step; absent for a step that is not recorded. */
    WORKFLOW_ID("txstep.workflow.id", true),
    /** High cardinality: the step id in its workflow; absent for a step that is not recorded. */
    STEP_ID("txstep.step.id", true);

    private final String name;
    private final boolean highCardinality;

    StepObservationKeys(String name, boolean highCardinality) {
        this.name = name;
        this.highCardinality = highCardinality;
    }

    @Override
    public String asString() {
        return name;
    }

    /**
     * Whether the key's values are unbounded (one per workflow or step), so that it must not tag meters.
     *
     * @return true for a high-cardinality key
     */
    public boolean isHighCardinality() {
        return highCardinality;
    }
}
