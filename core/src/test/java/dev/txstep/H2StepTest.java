package dev.txstep;

import dev.txstep.testing.TestDatabases;
import java.util.Map;

/** The step contract on embedded H2: a fresh in-memory database per test. */
class H2StepTest extends StepContract {

    @Override
    protected String databaseUrl() {
        return TestDatabases.h2R2dbcUrl();
    }

    @Override
    protected Map<IsolationLevel, String> isolationNames() {
        return Map.of(IsolationLevel.SERIALIZABLE, "serializable", IsolationLevel.REPEATABLE_READ, "repeatable read",
                IsolationLevel.READ_COMMITTED, "read committed");
    }

    @Override
    protected boolean enforcesReadOnly() {
        return false;
    }
}
