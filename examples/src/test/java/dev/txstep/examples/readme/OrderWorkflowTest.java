package dev.txstep.examples.readme;

// The README's "Test your own workflows" example, as written there.
// README begin
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.txstep.DatasourceOptions;
import dev.txstep.test.WorkflowTestKit;
import io.r2dbc.spi.ConnectionFactories;
import io.r2dbc.spi.ConnectionFactory;
import org.junit.jupiter.api.Test;

class OrderWorkflowTest {

    @Test
    void chargingAnOrderIsExactlyOnce() {
        ConnectionFactory h2 = ConnectionFactories.get("r2dbc:h2:mem:///orders;DB_CLOSE_DELAY=-1");
        WorkflowTestKit.forWorkflow("order-42", ds -> ds.runTxStepAsync(DatasourceOptions.named("charge"),
                        tx -> tx.execute("INSERT INTO charges (order_id, amount) VALUES ('order-42', 30)")))
                .database(h2, config -> config.jdbcUrl("jdbc:h2:mem:orders;DB_CLOSE_DELAY=-1"))
                .setUp(ds -> ds.runTxStepAsync(DatasourceOptions.named("setUp"), tx -> tx
                        .execute("CREATE TABLE IF NOT EXISTS charges (order_id VARCHAR(20), amount BIGINT)")
                        .then(tx.execute("DELETE FROM charges"))))
                .afterEachScenario((scenario, ds) -> assertEquals(1L, ds.runTxStepAsync(
                        DatasourceOptions.named("count").asReadOnly(), tx -> tx.query("SELECT COUNT(*) FROM charges",
                                (row, meta) -> row.get(0, Long.class)).single()).block(), scenario.toString()))
                .run();
    }
}
// README end
