package dev.txstep.bench;

import dev.txstep.IsolationLevel;

/**
 * The isolation levels the benchmark measures, with their name in each client's vocabulary.
 */
public enum Isolation {

    /** PostgreSQL's default level. */
    READ_COMMITTED(IsolationLevel.READ_COMMITTED, io.r2dbc.spi.IsolationLevel.READ_COMMITTED),

    /** txstep's default level; conflicting updates fail with 40001 and are retried. */
    SERIALIZABLE(IsolationLevel.SERIALIZABLE, io.r2dbc.spi.IsolationLevel.SERIALIZABLE);

    private final IsolationLevel txstep;
    private final io.r2dbc.spi.IsolationLevel r2dbc;

    Isolation(IsolationLevel txstep, io.r2dbc.spi.IsolationLevel r2dbc) {
        this.txstep = txstep;
        this.r2dbc = r2dbc;
    }

    /** @return the level as txstep's {@code DatasourceOptions} takes it */
    public IsolationLevel txstep() {
        return txstep;
    }

    /** @return the level as an R2DBC {@code beginTransaction} takes it */
    public io.r2dbc.spi.IsolationLevel r2dbc() {
        return r2dbc;
    }

    /** @return the short label used in tables and charts */
    public String label() {
        return this == READ_COMMITTED ? "RC" : "SER";
    }
}
