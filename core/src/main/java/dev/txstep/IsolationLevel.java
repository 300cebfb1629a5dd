package dev.txstep;

/**
 * The SQL isolation level a transaction step runs at.
 *
 * <p>The level is applied on every database txstep supports, including those whose R2DBC driver
 * ignores the isolation argument of {@code beginTransaction}: the datasource sets it itself.
 */
public enum IsolationLevel {
    /** {@code SERIALIZABLE}: the default, as in DBOS. Conflicts surface as retryable serialization failures. */
    SERIALIZABLE("SERIALIZABLE"),
    /** {@code REPEATABLE READ}. */
    REPEATABLE_READ("REPEATABLE READ"),
    /** {@code READ COMMITTED}. */
    READ_COMMITTED("READ COMMITTED");

    private final String sql;

    IsolationLevel(String sql) {
        this.sql = sql;
    }

    /**
     * The level as SQL spells it, e.g. {@code "REPEATABLE READ"}.
     *
     * @return the SQL keyword(s) for this level
     */
    public String sql() {
        return sql;
    }

    /**
     * Parses a level from its SQL spelling or its constant name, ignoring case and accepting
     * {@code _} or a space between words ({@code "read committed"}, {@code "READ_COMMITTED"}).
     *
     * @param text the level's name
     * @return the level
     * @throws InvalidInputException if {@code text} is null or names no level
     */
    public static IsolationLevel parse(String text) {
        if (text != null) {
            String normalized = text.trim().replace('_', ' ').replaceAll("\\s+", " ");
            for (IsolationLevel level : values()) {
                if (level.sql.equalsIgnoreCase(normalized)) {
                    return level;
                }
            }
        }
        throw new InvalidInputException("unknown isolation level '" + text
                + "': use SERIALIZABLE, REPEATABLE READ or READ COMMITTED");
    }
}
