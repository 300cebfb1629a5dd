package dev.txstep.test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.txstep.AsyncDatasource;
import dev.txstep.DatasourceOptions;
import dev.txstep.testing.TestDatabases;
import io.r2dbc.pool.ConnectionPool;
import io.r2dbc.pool.ConnectionPoolConfiguration;
import io.r2dbc.spi.ConnectionFactories;
import io.r2dbc.spi.ConnectionFactory;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

/**
 * The kit on real databases: an exactly-once workflow passes every scenario on PostgreSQL and on
 * H2; workflows that are not exactly-once fail, in the scenario and at the step the fault shows.
 */
class WorkflowTestKitTest {

    /** Each test's own schema; dropped after the test on PostgreSQL. */
    private final String schema = "kit_" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
    private ConnectionPool pool;

    @AfterEach
    void tearDown() {
        if (pool != null) {
            if (isPostgres) {
                TestDatabases.exec(TestDatabases.postgresR2dbcUrl(), "DROP SCHEMA IF EXISTS \"" + schema + "\" CASCADE");
            }
            pool.dispose();
        }
    }

    private boolean isPostgres;

    private <T> WorkflowTestKit<T> onPostgres(WorkflowTestKit<T> kit) {
        isPostgres = true;
        pool = pool(ConnectionFactories.get(TestDatabases.postgresR2dbcUrl()));
        return kit.database(pool, config -> config.jdbcUrl(TestDatabases.postgresJdbcUrl()).schema(schema));
    }

    private <T> WorkflowTestKit<T> onH2(WorkflowTestKit<T> kit) {
        String db = "kit" + UUID.randomUUID().toString().replace("-", "");
        pool = pool(ConnectionFactories.get("r2dbc:h2:mem:///" + db + ";DB_CLOSE_DELAY=-1"));
        return kit.database(pool, config -> config.jdbcUrl("jdbc:h2:mem:" + db + ";DB_CLOSE_DELAY=-1").schema(schema));
    }

    private static ConnectionPool pool(ConnectionFactory factory) {
        return new ConnectionPool(ConnectionPoolConfiguration.builder(factory).maxSize(8).build());
    }

    /** An order in three steps: reserve the stock, charge the card, write the receipt. */
    record Receipt(String order, long units, long amount) {
    }

    private static Function<AsyncDatasource, Mono<Receipt>> order(String order, long units, long price) {
        return ds -> {
            String s = "\"" + ds.schema() + "\".";
            return ds.runTxStepAsync(DatasourceOptions.named("reserve"), tx -> tx.execute(
                            "UPDATE " + s + "stock SET units = units - $1 WHERE sku = 'widget'", units))
                    .then(ds.runTxStepAsync(DatasourceOptions.named("charge"), tx -> tx.execute(
                            "INSERT INTO " + s + "charges (order_id, amount) VALUES ($1, $2)", order, units * price)))
                    .then(ds.runTxStepAsync(DatasourceOptions.named("receipt"), tx -> tx.query(
                            "SELECT SUM(amount) FROM " + s + "charges WHERE order_id = $1",
                            (row, meta) -> new Receipt(order, units, ((Number) row.get(0)).longValue()), order).single()));
        };
    }

    private static Mono<Void> resetTables(AsyncDatasource ds) {
        String s = "\"" + ds.schema() + "\".";
        return ds.runTxStepAsync(DatasourceOptions.named("reset"), tx -> tx
                .execute("CREATE TABLE IF NOT EXISTS " + s + "stock (sku VARCHAR(20) PRIMARY KEY, units BIGINT NOT NULL)")
                .then(tx.execute("CREATE TABLE IF NOT EXISTS " + s + "charges (order_id VARCHAR(20) NOT NULL,"
                        + " amount BIGINT NOT NULL)"))
                .then(tx.execute("DELETE FROM " + s + "charges"))
                .then(tx.execute("DELETE FROM " + s + "stock"))
                .then(tx.execute("INSERT INTO " + s + "stock VALUES ('widget', 100)"))).then();
    }

    private static long count(AsyncDatasource ds, String sql) {
        return ds.runTxStepAsync(DatasourceOptions.named("count").asReadOnly(), tx -> tx.query(
                sql.replace("$s.", "\"" + ds.schema() + "\"."), (row, meta) -> ((Number) row.get(0)).longValue()).single())
                .block();
    }

    /** The row counts that say the order happened once: 3 units taken, one charge of 30. */
    private static void orderedOnce(Scenario scenario, AsyncDatasource ds) {
        assertEquals(97, count(ds, "SELECT units FROM $s.stock WHERE sku = 'widget'"), scenario + ": stock");
        assertEquals(1, count(ds, "SELECT COUNT(*) FROM $s.charges"), scenario + ": charges");
    }

    private WorkflowTestKit<Receipt> orderKit() {
        return WorkflowTestKit.forWorkflow("order-1", order("order-1", 3, 10))
                .setUp(WorkflowTestKitTest::resetTables)
                .afterEachScenario(WorkflowTestKitTest::orderedOnce);
    }

    private static void assertAllScenarios(WorkflowTestKit.Report report) {
        assertEquals(Map.of(0, "reserve", 1, "charge", 2, "receipt"), report.steps());
        assertEquals(List.of("reference", "interrupted-after-0", "commit-ack-lost-0", "interrupted-after-1",
                        "commit-ack-lost-1", "interrupted-after-2", "commit-ack-lost-2", "duplicates-4"),
                report.scenarios().stream().map(Scenario::name).toList());
    }

    @Test
    void exactlyOnceWorkflowPassesEveryScenarioOnPostgres() {
        assertAllScenarios(onPostgres(orderKit()).run());
    }

    @Test
    void exactlyOnceWorkflowPassesEveryScenarioOnH2() {
        assertAllScenarios(onH2(orderKit()).run());
    }

    /**
     * An effect outside any step (a notification, counted in memory, between two steps) runs again
     * whenever the body runs past it again: the check fails in the scenarios that do that — a run
     * after one that passed the notification (commit-ack-lost-k re-runs a finished workflow;
     * interrupted-after-1 stops after it) and the duplicates — and passes in interrupted-after-0,
     * which stops before it.
     */
    @Test
    void effectOutsideAStepFailsTheScenariosThatRunItTwice() {
        AtomicInteger notifications = new AtomicInteger();
        WorkflowTestKit<Receipt> kit = WorkflowTestKit.forWorkflow("order-2", ds -> {
                    String s = "\"" + ds.schema() + "\".";
                    return ds.runTxStepAsync(DatasourceOptions.named("reserve"), tx -> tx.execute(
                                    "UPDATE " + s + "stock SET units = units - 3 WHERE sku = 'widget'"))
                            .then(Mono.fromRunnable(notifications::incrementAndGet)) // not a step
                            .then(ds.runTxStepAsync(DatasourceOptions.named("charge"), tx -> tx.execute(
                                    "INSERT INTO " + s + "charges (order_id, amount) VALUES ('order-2', 30)")))
                            .thenReturn(new Receipt("order-2", 3, 30));
                })
                .setUp(ds -> resetTables(ds).doOnSuccess(done -> notifications.set(0)))
                .afterEachScenario((scenario, ds) -> {
                    orderedOnce(scenario, ds);
                    assertEquals(1, notifications.get(), "notifications");
                });
        WorkflowTestKitFailure failure = assertThrows(WorkflowTestKitFailure.class, () -> onH2(kit).run());
        assertEquals(List.of(
                        "scenario 'commit-ack-lost-0' at step (order-2/commit-ack-lost-0, 0) 'reserve'",
                        "scenario 'interrupted-after-1' at step (order-2/interrupted-after-1, 1) 'charge'",
                        "scenario 'commit-ack-lost-1' at step (order-2/commit-ack-lost-1, 1) 'charge'",
                        "scenario 'duplicates-4' (workflow order-2/duplicates-4)"),
                failure.failures().stream().map(f -> f.substring(0, f.indexOf(": afterEachScenario failed"))).toList(),
                failure.getMessage());
        assertTrue(failure.getMessage().contains("notifications ==> expected: <1> but was: <2>"), failure.getMessage());
    }

    /**
     * A workflow whose steps depend on something other than its recorded outputs (here a counter of
     * runs picks the second step's name) is not deterministic: replaying it meets a recorded step
     * under another name. The kit reports the run's NonDeterminismException in the scenarios that
     * replay that step, with the step.
     */
    @Test
    void nonDeterministicStepIsReportedWithItsScenarioOnPostgres() {
        AtomicInteger runs = new AtomicInteger();
        WorkflowTestKit<String> kit = WorkflowTestKit.forWorkflow("flaky", ds -> {
            String second = runs.incrementAndGet() % 2 == 0 ? "even" : "odd";
            return ds.runTxStepAsync(DatasourceOptions.named("first"), tx -> Mono.just("a"))
                    .then(ds.runTxStepAsync(DatasourceOptions.named(second), tx -> Mono.just("b")));
        }).setUp(ds -> Mono.fromRunnable(() -> runs.set(0)));
        WorkflowTestKitFailure failure = assertThrows(WorkflowTestKitFailure.class, () -> onPostgres(kit).run());
        String interrupted = failure.failures().stream()
                .filter(f -> f.startsWith("scenario 'interrupted-after-1' at step (flaky/interrupted-after-1, 1) 'odd'"))
                .findFirst().orElseThrow(() -> new AssertionError(failure.getMessage()));
        assertTrue(interrupted.contains("dev.txstep.NonDeterminismException"), interrupted);
    }

    /**
     * A result computed outside the steps (a fresh UUID) differs from run to run: the kit reports
     * every scenario's run as a different outcome from the reference.
     */
    @Test
    void resultNotMadeOfStepOutputsIsReportedOnH2() {
        WorkflowTestKit<String> kit = WorkflowTestKit.forWorkflow("random", ds ->
                ds.runTxStepAsync(DatasourceOptions.named("only"), tx -> Mono.just("x"))
                        .map(x -> x + UUID.randomUUID()));
        WorkflowTestKitFailure failure = assertThrows(WorkflowTestKitFailure.class, () -> onH2(kit).run());
        assertTrue(failure.failures().stream().anyMatch(f -> f.startsWith(
                "scenario 'interrupted-after-0' at step (random/interrupted-after-0, 0) 'only': the run after the"
                        + " interruption ended with result x")), failure.getMessage());
        assertEquals(1 + 2 + 4, failure.failures().size(), failure.getMessage()); // interrupted: 1 run after; ack lost: 2 runs; duplicates: 4
    }
}
