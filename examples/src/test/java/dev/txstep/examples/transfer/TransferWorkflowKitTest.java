package dev.txstep.examples.transfer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.txstep.AsyncDatasource;
import dev.txstep.DatasourceOptions;
import dev.txstep.spring.SpringDataAccess;
import dev.txstep.spring.TxStep;
import dev.txstep.test.Scenario;
import dev.txstep.test.WorkflowTestKit;
import dev.txstep.testing.TestDatabases;
import io.r2dbc.pool.ConnectionPool;
import io.r2dbc.pool.ConnectionPoolConfiguration;
import io.r2dbc.spi.ConnectionFactories;
import java.util.List;
import java.util.Map;
import org.springframework.data.r2dbc.convert.MappingR2dbcConverter;
import org.springframework.data.r2dbc.core.R2dbcEntityTemplate;
import org.springframework.data.r2dbc.dialect.PostgresDialect;
import org.springframework.data.r2dbc.mapping.R2dbcMappingContext;
import org.springframework.data.r2dbc.repository.support.R2dbcRepositoryFactory;
import org.springframework.r2dbc.core.DatabaseClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

/**
 * The transfer service's workflow — a request with an idempotency key runs the one READ COMMITTED
 * transfer step ({@code @TxStep} over Spring Data) inside {@code Workflow.run} — put through
 * txstep-test on PostgreSQL: interrupted
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
    void aTransferRequestMovesTheMoneyOnceInEveryScenario() throws Exception {
        TransferRequest request = new TransferRequest("alice", "bob", 30);
        // The step as @TxStep runs it in the application: its name and isolation read from the
        // annotation, its body the service's, over Spring Data on the kit's datasource.
        TxStep step = TransferService.class.getMethod("transfer", TransferRequest.class).getAnnotation(TxStep.class);
        DatasourceOptions options = new DatasourceOptions(step.name(), step.isolation());
        WorkflowTestKit.Report report = WorkflowTestKit
                .forWorkflow("idempotency-key:kit-1", ds -> ds.runTxStepAsync(options, tx -> service(ds).move(request)))
                .database(pool, config -> config.jdbcUrl(TestDatabases.postgresJdbcUrl()).schema(schema)
                        .addContextContributor(SpringDataAccess.contributor()))
                .setUp(this::openAccounts)
                // The transfer's id and time are made afresh in each scenario's own workflow; the
                // amounts and balances must not differ.
                .sameResultBy(t -> List.of(t.from(), t.to(), t.amount(), t.fromBalance(), t.toBalance()))
                .afterEachScenario(this::movedOnce)
                .run();
        assertEquals(Map.of(0, "transfer"), report.steps());
        assertEquals(4, report.scenarios().size(), report.scenarios().toString());
    }

    /**
     * The service over Spring Data built on the kit's datasource's own connection factory: the one
     * the step's connection is bound to, so the repository and the template run inside the step.
     */
    private TransferService service(AsyncDatasource ds) {
        R2dbcEntityTemplate template = template(ds);
        return new TransferService(new R2dbcRepositoryFactory(template).getRepository(AccountRepository.class), template);
    }

    private R2dbcEntityTemplate template(AsyncDatasource ds) {
        R2dbcMappingContext mapping = TransferTables.mappingContext(schema);
        return new R2dbcEntityTemplate(DatabaseClient.create(ds.connectionFactory()), PostgresDialect.INSTANCE,
                new MappingR2dbcConverter(mapping));
    }

    /** Alice 100, Bob 0, an empty ledger. */
    private Mono<Void> openAccounts(AsyncDatasource ds) {
        DatabaseClient client = DatabaseClient.create(ds.connectionFactory());
        Map<String, Long> opening = Map.of("alice", 100L, "bob", 0L);
        return TransferTables.create(client, schema, opening)
                .then(client.sql("DELETE FROM \"" + schema + "\".ledger").then())
                .then(client.sql("DELETE FROM \"" + schema + "\".accounts").then())
                .then(TransferTables.create(client, schema, opening));
    }

    private void movedOnce(Scenario scenario, AsyncDatasource ds) {
        assertEquals(70L, TestDatabases.queryLong(URL, "SELECT balance FROM \"" + schema + "\".accounts WHERE id = 'alice'"),
                scenario + ": alice");
        assertEquals(30L, TestDatabases.queryLong(URL, "SELECT balance FROM \"" + schema + "\".accounts WHERE id = 'bob'"),
                scenario + ": bob");
        assertEquals(2L, TestDatabases.queryLong(URL, "SELECT COUNT(*) FROM \"" + schema + "\".ledger"),
                scenario + ": ledger rows (one debit, one credit)");
    }
}
