package dev.txstep;

import dev.txstep.testing.TestDatabases;

/** Every entry point × every step option on PostgreSQL. */
class PostgresStepOptionsTest extends StepOptionsContract {

    @Override
    protected String databaseUrl() {
        return TestDatabases.postgresR2dbcUrl();
    }

    @Override
    protected boolean enforcesReadOnly() {
        return true;
    }
}
