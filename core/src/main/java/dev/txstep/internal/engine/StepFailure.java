package dev.txstep.internal.engine;

import dev.txstep.internal.store.OutputRow;

/**
 * Carries a failure out of a step's transaction to the code that decides, after the rollback,
 * what it means. Never reaches the caller. No stack trace: it is a message, not a bug.
 */
abstract class StepFailure extends RuntimeException {

    private static final long serialVersionUID = 1L;

    StepFailure(Throwable cause) {
        super(cause == null ? null : cause.getMessage(), cause, false, false);
    }

    /** The step's function failed (or a deferred constraint on its writes failed at commit). */
    static final class FunctionFailed extends StepFailure {
        private static final long serialVersionUID = 1L;

        FunctionFailed(Throwable cause) {
            super(cause);
        }
    }

    /**
     * The execution's first step found itself recorded as it began: roll back (if a transaction was
     * opened in the same round trip) and replay the row it read.
     */
    static final class AlreadyRecorded extends StepFailure {
        private static final long serialVersionUID = 1L;

        private final transient OutputRow row;

        AlreadyRecorded(OutputRow row) {
            super(null);
            this.row = row;
        }

        OutputRow row() {
            return row;
        }
    }

    /** The output row's key was taken: another executor may have recorded the step first. */
    static final class KeyTaken extends StepFailure {
        private static final long serialVersionUID = 1L;

        KeyTaken(Throwable cause) {
            super(cause);
        }
    }

    /**
     * Inserting the output row and committing failed in a way that leaves the outcome unknown: not
     * a refusal by the database, not a lost connection (which is retried). The step's row says
     * whether the commit landed.
     */
    static final class OutcomeUnknown extends StepFailure {
        private static final long serialVersionUID = 1L;

        OutcomeUnknown(Throwable cause) {
            super(cause);
        }
    }
}
