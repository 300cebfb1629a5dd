package dev.txstep.examples.readme;

import dev.dbos.transact.DBOS;

/**
 * Holds the application's {@link DBOS} instance before any field of a subclass is initialized, so
 * that the README's snippet can use {@code dbos} in a field initializer, as an application's own
 * configuration class would.
 */
abstract class DbosApplication {

    final DBOS dbos;

    DbosApplication(DBOS dbos) {
        this.dbos = dbos;
    }
}
