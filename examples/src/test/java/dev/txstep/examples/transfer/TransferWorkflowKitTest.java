package dev.txstep.examples.transfer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.txstep.AsyncDatasource;
import dev.txstep.DatasourceOptions;
import dev.txstep.test.Scenario;
import dev.txstep.test.WorkflowTestKit;
import dev.txstep.testing.TestDatabases;
import io.r2dbc.pool.ConnectionPool;
import io.r2dbc.pool.ConnectionPoolConfiguration;
import io.r2dbc.spi.ConnectionFactories;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

/**
 * The transfer service's workflow — a request with an idempotency key runs the one SERIALIZABLE
 * transfer step inside {@code Workflow.run} — put through txstep-test on PostgreSQL: interrupted
 * after the step, the step's commit acknowledgement lost, four identical requests at once. After
 * each scenario the accounts and the ledger must show the money moved once.
 */
class TransferWorkflowKitTest {

    private static final String URL = TestDatabases.postgresR2dbcUrl();
    private final String schema = TestDatabases.uniqueSchema("transfer_kit");
    private final ConnectionPool pool = new ConnectionPool(
            ConnectionPoolConfiguration.builder(ConnectionFactories.get(URL)).maxSize(8).build());

    @AfterEach
    void tearDown() {
        pool.dispose();
        TestDatabases.exec(URL, "DROP SCHEMA IF EXISTS \"" + schema + "\" CASCADE");
    }

    @Test
    void aTransferRequestMovesTheMoneyOnceInEveryScenario() {
        TransferRequest request = new TransferRequest("alice", "bob", 30);
        WorkflowTestKit.Report report = WorkflowTestKit
                .forWorkflow("idempotency-key:kit-1", ds -> new TransferService(ds, schema).transfer(request))
                .database(pool, config -> config.jdbcUrl(TestDatabases.postgresJdbcUrl()).schema(schema))
                .setUp(this::openAccounts)
                // The transfer's id and time are made afresh in each scenario's own workflow; the
                // amounts and balances must not differ.
                .sameResultBy(t -> List.of(t.from(), t.to(), t.amount(), t.fromBalance(), t.toBalance()))
                .afterEachScenario(this::movedOnce)
                .run();
        assertEquals(Map.of(0, "transfer"), report.steps());
        assertEquals(4, report.scenarios().size(), report.scenarios().toString());
    }

    /** Alice 100, Bob 0, an empty ledger. */
    private Mono<Void> openAccounts(AsyncDatasource ds) {
        TransferService service = new TransferService(ds, schema);
        Map<String, Long> opening = Map.of("alice", 100L, "bob", 0L);
        return service.createTables(opening)
                .then(ds.runTxStepAsync(DatasourceOptions.named("reset"), tx -> tx
                        .execute("DELETE FROM \"" + schema + "\".ledger")
                        .then(tx.execute("DELETE FROM \"" + schema + "\".accounts"))))
                .then(service.createTables(opening));
    }

    private void movedOnce(Scenario scenario, AsyncDatasource ds) {
        TransferService service = new TransferService(ds, schema);
        assertEquals(70L, service.account("alice").block().balance(), scenario + ": alice");
        assertEquals(30L, service.account("bob").block().balance(), scenario + ": bob");
        long ledgerRows = ds.runTxStepAsync(DatasourceOptions.named("ledger").asReadOnly(), tx -> tx.query(
                "SELECT COUNT(*) FROM \"" + schema + "\".ledger", (row, meta) -> row.get(0, Long.class)).single()).block();
        assertEquals(2L, ledgerRows, scenario + ": ledger rows (one debit, one credit)");
    }
}
