package dev.txstep;

import dev.txstep.testing.TestDatabases;

/** The blocking facade's tests ({@link BlockingDatasourceTest}) on MariaDB. */
class MariaDbBlockingDatasourceTest extends BlockingDatasourceTest {

    @Override
    protected String databaseUrl() {
        return TestDatabases.mariadbR2dbcUrl();
    }
}
