package dev.txstep;

import dev.txstep.testing.TestDatabases;
import java.util.Map;

/** The step contract on PostgreSQL. */
class PostgresStepTest extends StepContract {

    @Override
    protected String databaseUrl() {
        return TestDatabases.postgresR2dbcUrl();
    }

    @Override
    protected Map<IsolationLevel, String> isolationNames() {
        return Map.of(IsolationLevel.SERIALIZABLE, "serializable", IsolationLevel.REPEATABLE_READ, "repeatable read",
                IsolationLevel.READ_COMMITTED, "read committed");
    }
}
