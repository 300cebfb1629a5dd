package dev.txstep.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.txstep.AsyncDatasource;
import dev.txstep.DatasourceOptions;
import dev.txstep.test.Scenario;
import dev.txstep.test.WorkflowTestKit;
import io.r2dbc.pool.ConnectionPool;
import io.r2dbc.pool.ConnectionPoolConfiguration;
import io.r2dbc.spi.ConnectionFactories;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

/**
 * The Reactor pipeline's workflow — a {@code Flux} of orders through {@code concatMap}, one ship
 * step per order — put through txstep-test on embedded H2: interrupted after each order's step,
 * each step's commit acknowledgement lost, four executions at once. After each scenario every
 * order must be shipped once and the stock taken once per order.
 */
class PipelineKitTest {

    private static final int ORDERS = 5;
    private final String db = "pipelinekit" + UUID.randomUUID().toString().replace("-", "");
    private final ConnectionPool pool = new ConnectionPool(ConnectionPoolConfiguration.builder(
            ConnectionFactories.get("r2dbc:h2:mem:///" + db + ";DB_CLOSE_DELAY=-1")).maxSize(8).build());

    @AfterEach
    void tearDown() {
        pool.dispose();
    }

    @Test
    void everyOrderShipsOnceInEveryScenario() {
        WorkflowTestKit.Report report = WorkflowTestKit
                .forWorkflow("pipeline-kit", ds -> new ReactorPipeline.Pipeline(ds, ds.schema()).ship(ORDERS, null))
                .database(pool, config -> config.jdbcUrl("jdbc:h2:mem:" + db + ";DB_CLOSE_DELAY=-1")
                        .schema(ReactorPipeline.DEFAULT_SCHEMA))
                .setUp(PipelineKitTest::freshTables)
                .afterEachScenario(PipelineKitTest::shippedOnce)
                .run();
        assertEquals(ORDERS, report.steps().size(), report.steps().toString());
        assertEquals(1 + 2 * ORDERS + 1, report.scenarios().size(), report.scenarios().toString());
    }

    private static Mono<Void> freshTables(AsyncDatasource ds) {
        String s = "\"" + ds.schema() + "\".";
        return ds.runTxStepAsync(DatasourceOptions.named("drop"), tx -> tx.execute("DROP TABLE IF EXISTS " + s + "stock")
                        .then(tx.execute("DROP TABLE IF EXISTS " + s + "shipments")))
                .then(new ReactorPipeline.Pipeline(ds, ds.schema()).createTables());
    }

    private static void shippedOnce(Scenario scenario, AsyncDatasource ds) {
        ReactorPipeline.Pipeline pipeline = new ReactorPipeline.Pipeline(ds, ds.schema());
        assertEquals(ORDERS, pipeline.count("SELECT COUNT(*) FROM " + pipeline.table("shipments")).block(),
                scenario + ": shipments");
        assertEquals(ORDERS, pipeline.count("SELECT COUNT(DISTINCT order_no) FROM " + pipeline.table("shipments")).block(),
                scenario + ": distinct orders shipped");
        // Order n takes 1 + n % 3 units: 1 + 2 + 3 + 1 + 2 for five orders.
        assertEquals(9, pipeline.count("SELECT 50000 - SUM(units) FROM " + pipeline.table("stock")).block(),
                scenario + ": units taken from stock");
    }
}
