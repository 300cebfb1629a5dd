package dev.txstep.reactor.dbos;

import dev.dbos.transact.DBOS;
import dev.dbos.transact.workflow.Workflow;
import dev.txstep.BlockingTxSession;
import dev.txstep.DatasourceOptions;
import dev.txstep.IsolationLevel;
import java.util.function.BiConsumer;

/**
 * The tests' workflows over {@link DbosTxSteps}. Effects go to {@link ShopTables}' {@code effects},
 * a table without a key, so a step that ran twice leaves two rows.
 */
final class ShopWorkflowsImpl implements ShopWorkflows {

    /** A checkpoint hook that does nothing: for runs that are not to be paused. */
    static final BiConsumer<String, String> NO_CHECKPOINTS = (workflowId, point) -> { };

    private final DBOS dbos;
    private final DbosTxSteps steps;
    private final ShopTables tables;
    private final BiConsumer<String, String> checkpoint;

    /**
     * @param checkpoint called at points a crash test pauses at ({@code after-charge},
     *                   {@code after-reserve}), on the workflow's thread
     */
    ShopWorkflowsImpl(DBOS dbos, DbosTxSteps steps, ShopTables tables, BiConsumer<String, String> checkpoint) {
        this.dbos = dbos;
        this.steps = steps;
        this.tables = tables;
        this.checkpoint = checkpoint;
    }

    @Override
    @Workflow(name = "placeOrder")
    public Receipt placeOrder(Order order) {
        String workflowId = DBOS.workflowId();
        Reservation reservation = steps.runTxStep(DatasourceOptions.named("reserve"),
                tx -> new Reservation(order.sku(), order.quantity(), effect(tx, "reserve")));
        String audit = dbos.runStep(() -> "audited " + order.sku(), "audit");
        Charge charge = steps.runTxStep(DatasourceOptions.named("charge"),
                tx -> new Charge(order.quantity() * order.unitPriceCents(), effect(tx, "charge")));
        checkpoint.accept(workflowId, "after-charge");
        int shipments = steps.runTxStep(DatasourceOptions.named("ship"), tx -> effect(tx, "ship"));
        return new Receipt(reservation, audit, charge, shipments);
    }

    @Override
    @Workflow(name = "outOfStock")
    public String outOfStock(String sku) {
        String outcome;
        try {
            steps.runTxStep(DatasourceOptions.named("reserve"), tx -> {
                effect(tx, "reserve"); // rolled back with the step
                throw new IllegalStateException("out of stock: " + sku);
            });
            outcome = "reserved";
        } catch (IllegalStateException e) {
            outcome = e.getClass().getName() + ": " + e.getMessage();
        }
        checkpoint.accept(DBOS.workflowId(), "after-reserve");
        return outcome;
    }

    @Override
    @Workflow(name = "nested")
    public String nested(String sku) {
        String inStep;
        try {
            steps.runTxStep(DatasourceOptions.named("outer"), tx -> {
                effect(tx, "outer");
                return steps.runTxStep(DatasourceOptions.named("inner"), inner -> effect(inner, "inner"));
            });
            inStep = "not refused";
        } catch (RuntimeException e) {
            inStep = e.getClass().getName() + ": " + e.getMessage();
        }
        String inDbosStep;
        try {
            dbos.runStep(() -> steps.runTxStep(DatasourceOptions.named("inner"), inner -> effect(inner, "inner")),
                    "plain");
            inDbosStep = "not refused";
        } catch (RuntimeException e) {
            inDbosStep = e.getClass().getName() + ": " + e.getMessage();
        }
        return inStep + "\n" + inDbosStep;
    }

    @Workflow(name = "options")
    public String options(String sku) {
        String level = steps.runTxStep(new DatasourceOptions("level", IsolationLevel.READ_COMMITTED),
                tx -> tx.query("SHOW transaction_isolation", (row, meta) -> row.get(0, String.class)).get(0));
        String write;
        try {
            steps.runTxStep(DatasourceOptions.named("read-only").asReadOnly(), tx -> effect(tx, "read-only"));
            write = "wrote";
        } catch (RuntimeException e) {
            write = e.getClass().getName();
        }
        return level + "\n" + write;
    }

    /**
     * Inserts one effect row for the running step and returns how many rows its workflow has for
     * that step name, this one included: 1 unless the step's effect happened twice.
     */
    private int effect(BlockingTxSession tx, String step) {
        // The function runs on a worker thread, outside DBOS's thread-bound context: its key comes
        // from the txstep session, which DbosTxSteps keyed from DBOS.
        var key = tx.stepKey().orElseThrow(() -> new IllegalStateException("step " + step + " has no key"));
        tx.execute("INSERT INTO " + tables.table("effects") + " (workflow_id, step, step_id) VALUES ($1, $2, $3)",
                key.workflowId(), step, key.stepId());
        return tx.query("SELECT COUNT(*) FROM " + tables.table("effects") + " WHERE workflow_id = $1 AND step = $2",
                (row, meta) -> row.get(0, Long.class), key.workflowId(), step).get(0).intValue();
    }
}
