package dev.txstep;

import dev.txstep.testing.TestDatabases;

/** Every entry point × every step option on MariaDB. */
class MariaDbStepOptionsTest extends StepOptionsContract {

    @Override
    protected String databaseUrl() {
        return TestDatabases.mariadbR2dbcUrl();
    }

    @Override
    protected boolean enforcesReadOnly() {
        return true;
    }
}
