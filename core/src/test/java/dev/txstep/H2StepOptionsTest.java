package dev.txstep;

import dev.txstep.testing.TestDatabases;

/** Every entry point × every step option on H2. */
class H2StepOptionsTest extends StepOptionsContract {

    @Override
    protected String databaseUrl() {
        return TestDatabases.h2R2dbcUrl();
    }

    @Override
    protected boolean enforcesReadOnly() {
        return false;
    }
}
