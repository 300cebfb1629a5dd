package dev.txstep;

import dev.txstep.testing.TestDatabases;
import java.util.Map;

/** The step contract on MariaDB (a schema is a database there). */
class MariaDbStepTest extends StepContract {

    @Override
    protected String databaseUrl() {
        return TestDatabases.mariadbR2dbcUrl();
    }

    @Override
    protected Map<IsolationLevel, String> isolationNames() {
        return Map.of(IsolationLevel.SERIALIZABLE, "serializable", IsolationLevel.REPEATABLE_READ, "repeatable-read",
                IsolationLevel.READ_COMMITTED, "read-committed");
    }
}
