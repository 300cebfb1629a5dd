package dev.txstep.test;

import dev.txstep.AsyncDatasource;

/**
 * Your assertions on the database after a scenario — typically row counts that show each effect
 * happened once (one ledger row per transfer, the stock taken once per order).
 */
@FunctionalInterface
public interface ScenarioCheck {

    /**
     * Checks the state a scenario left. Runs on the thread that called {@link WorkflowTestKit#run()},
     * so it may block (e.g. {@code Mono.block()}) and use any assertion library.
     *
     * @param scenario   the scenario that just ran
     * @param datasource the kit's datasource, to query the tables with (outside any workflow)
     * @throws Exception an {@link AssertionError} or any other exception fails the scenario; the
     *                   kit reports it with the scenario's name and step
     */
    void check(Scenario scenario, AsyncDatasource datasource) throws Exception;
}
