package dev.txstep;

import dev.txstep.internal.Texts;

/**
 * How one transaction step runs: its recorded name, its isolation level, and whether it only reads.
 *
 * <p>Both fields may be null and then take their defaults: the name defaults to the method that
 * declared the step (found when the step is declared, e.g. {@code com.acme.Transfers.debit}), the
 * isolation level to {@link IsolationLevel#SERIALIZABLE}. Passing {@code null} instead of options
 * means all defaults.
 *
 * <p>The name is recorded with the step's output; replaying a step under a different name is a
 * {@link NonDeterminismException}. Give steps explicit names when the code around them may be
 * refactored while workflows are in flight.
 *
 * <p>A <em>read-only</em> step runs in a read-only transaction (where the database enforces one:
 * PostgreSQL and MariaDB; H2 does not) and records nothing: in a workflow it still takes its step
 * id, so the ids of the steps after it do not depend on it, but a replay runs it again and it may
 * read newer data. Use it for reads whose result the workflow does not branch on, or may see
 * change, as DBOS's {@code readOnly} transactions.
 *
 * @param name           the step's name, or null for the default; not blank, no NUL character or unpaired surrogate
 * @param isolationLevel the isolation level, or null for {@code SERIALIZABLE}
 * @param readOnly       whether the step runs read-only and unrecorded
 */
public record DatasourceOptions(String name, IsolationLevel isolationLevel, boolean readOnly) {

    private static final DatasourceOptions DEFAULTS = new DatasourceOptions(null, null);

    /**
     * Validates the name.
     *
     * @param name           the step's name, or null for the default
     * @param isolationLevel the isolation level, or null for the default
     * @param readOnly       whether the step runs read-only and unrecorded
     * @throws InvalidInputException if {@code name} is blank or contains a NUL character or an unpaired surrogate
     */
    public DatasourceOptions {
        if (name != null && (name.isBlank() || Texts.unstorable(name) != null)) {
            throw new InvalidInputException("step name must be null (for the default) or a non-blank"
                    + " text without NUL characters or unpaired surrogates, was '" + name + "'");
        }
    }

    /**
     * Options of a step that writes and is recorded.
     *
     * @param name           the step's name, or null for the default
     * @param isolationLevel the isolation level, or null for the default
     * @throws InvalidInputException if {@code name} is blank or contains a NUL character or an unpaired surrogate
     */
    public DatasourceOptions(String name, IsolationLevel isolationLevel) {
        this(name, isolationLevel, false);
    }

    /**
     * All defaults.
     *
     * @return options with neither name nor isolation level set
     */
    public static DatasourceOptions defaults() {
        return DEFAULTS;
    }

    /**
     * Options with a name and the default isolation level.
     *
     * @param name the step's name
     * @return the options
     */
    public static DatasourceOptions named(String name) {
        return new DatasourceOptions(name, null);
    }

    /**
     * These options with another isolation level.
     *
     * @param level the level, or null for the default
     * @return new options
     */
    public DatasourceOptions withIsolationLevel(IsolationLevel level) {
        return new DatasourceOptions(name, level, readOnly);
    }

    /**
     * These options for a read-only step: a read-only transaction, nothing recorded, run again on
     * every replay.
     *
     * @return new options
     */
    public DatasourceOptions asReadOnly() {
        return new DatasourceOptions(name, isolationLevel, true);
    }

    /**
     * The isolation level the step runs at: the one given, else {@code SERIALIZABLE}.
     *
     * @return the effective level, never null
     */
    public IsolationLevel effectiveIsolationLevel() {
        return isolationLevel == null ? IsolationLevel.SERIALIZABLE : isolationLevel;
    }
}
