package dev.txstep;

import dev.txstep.testing.TestDatabases;

/** The blocking facade's tests ({@link BlockingDatasourceTest}) on PostgreSQL. */
class PostgresBlockingDatasourceTest extends BlockingDatasourceTest {

    @Override
    protected String databaseUrl() {
        return TestDatabases.postgresR2dbcUrl();
    }
}
