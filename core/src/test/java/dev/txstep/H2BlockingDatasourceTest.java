package dev.txstep;

import dev.txstep.testing.TestDatabases;

/** The blocking facade's tests ({@link BlockingDatasourceTest}) on embedded H2: a fresh in-memory database per test. */
class H2BlockingDatasourceTest extends BlockingDatasourceTest {

    @Override
    protected String databaseUrl() {
        return TestDatabases.h2R2dbcUrl();
    }
}
