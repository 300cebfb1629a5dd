package dev.txstep.reactor.dbos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dbos.transact.DBOS;
import dev.dbos.transact.StartWorkflowOptions;
import dev.dbos.transact.workflow.StepInfo;
import dev.txstep.AsyncDatasource;
import dev.txstep.BlockingTxSession;
import dev.txstep.DatasourceConfig;
import dev.txstep.DatasourceOptions;
import dev.txstep.InvalidInputException;
import dev.txstep.IsolationLevel;
import dev.txstep.StepKey;
import dev.txstep.reactor.Workflow;
import dev.txstep.reactor.dbos.ShopWorkflows.Charge;
import dev.txstep.reactor.dbos.ShopWorkflows.Order;
import dev.txstep.reactor.dbos.ShopWorkflows.Receipt;
import dev.txstep.reactor.dbos.ShopWorkflows.Reservation;
import dev.txstep.testing.TestDatabases;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link DbosTxSteps} in one JVM, on real PostgreSQL with a fresh DBOS system database per test:
 * keys come from DBOS, a recorded error is raised as it first was whichever record it comes from,
 * steps outside DBOS workflows are txstep's own, and nested steps are refused. Effects are counted
 * as rows. The crash windows with a killed process are {@link DbosTxStepsCrashTest}'s.
 */
class DbosTxStepsTest {

    private DbosSystemDatabase systemDb;
    private String url;
    private ShopTables tables;
    private AsyncDatasource ds;
    private DBOS dbos;
    private DbosTxSteps steps;
    private ShopWorkflows workflows;

    @BeforeEach
    void setUp() {
        systemDb = DbosSystemDatabase.create();
        url = TestDatabases.postgresR2dbcUrl();
        tables = new ShopTables(url, TestDatabases.uniqueSchema("dbos_steps"));
        ds = AsyncDatasource.create(DatasourceConfig.builder().url(url).schema(tables.schema()).build())
                .block(Duration.ofSeconds(60));
        tables.createEffects();
        dbos = new DBOS(systemDb.config());
        steps = DbosTxSteps.create(dbos, ds);
        workflows = dbos.registerProxy(ShopWorkflows.class,
                new ShopWorkflowsImpl(dbos, steps, tables, ShopWorkflowsImpl.NO_CHECKPOINTS));
        dbos.launch();
    }

    @AfterEach
    void tearDown() {
        if (dbos != null) {
            dbos.shutdown(); // before the datasource closes: no workflow may be left mid-step
        }
        if (ds != null) {
            ds.close().block(Duration.ofSeconds(30));
        }
        tables.drop();
        systemDb.drop();
    }

    @Test
    void txstepStepsAreKeyedByDbosWorkflowAndStepIds() throws SQLException {
        String workflowId = workflowId();
        Receipt receipt = dbos.startWorkflow(() -> workflows.placeOrder(new Order("sku-1", 2, 1250)),
                new StartWorkflowOptions(workflowId)).getResult();

        assertEquals(new Receipt(new Reservation("sku-1", 2, 1), "audited sku-1", new Charge(2500, 1), 1), receipt);
        // DBOS numbers all four steps; txstep recorded its three under DBOS's ids (the plain DBOS
        // step "audit" took id 1), and each effect was written under the key its session had.
        assertEquals(List.of("0:reserve", "1:audit", "2:charge", "3:ship"), systemDb.recordedSteps(workflowId));
        assertEquals(List.of("0:reserve", "2:charge", "3:ship"), tables.txstepSteps(workflowId));
        assertEquals(List.of("0:reserve x1", "2:charge x1", "3:ship x1"), tables.effects(workflowId));
    }

    /**
     * The crash window in which txstep recorded a step's error and DBOS did not: DBOS runs the
     * step again and txstep replays the error. The workflow must see the exception it saw the
     * first time (its catch of {@code IllegalStateException} must still catch it), and DBOS must
     * record that exception, not txstep's {@code RecordedStepException} around it.
     */
    @Test
    void anErrorTxstepRecordedAndDbosDidNotIsRaisedAsItFirstWas() throws SQLException {
        String workflowId = workflowId();
        // The first execution's step 0 got as far as txstep's record, as in a process that died
        // before DBOS recorded the step: the same step, keyed (workflowId, 0), run by txstep alone.
        assertThrows(IllegalStateException.class, () -> Workflow.runBlocking(workflowId,
                () -> steps.runTxStep(DatasourceOptions.named("reserve"), tx -> {
                    throw new IllegalStateException("out of stock: sku-2");
                })));
        assertEquals(List.of("0:reserve:error"), tables.txstepSteps(workflowId));
        assertEquals(List.of(), systemDb.recordedSteps(workflowId));

        String outcome = dbos.startWorkflow(() -> workflows.outOfStock("sku-2"), new StartWorkflowOptions(workflowId))
                .getResult();

        assertEquals("java.lang.IllegalStateException: out of stock: sku-2", outcome);
        List<StepInfo> dbosSteps = dbos.listWorkflowSteps(workflowId);
        assertEquals(1, dbosSteps.size());
        assertEquals("java.lang.IllegalStateException", dbosSteps.get(0).error().className());
        assertEquals("out of stock: sku-2", dbosSteps.get(0).error().message());
        assertEquals(List.of(), tables.effects(workflowId), "the workflow's own function never ran");

        // And the same as a workflow that never crashed.
        String uncrashed = dbos.startWorkflow(() -> workflows.outOfStock("sku-2"),
                new StartWorkflowOptions(workflowId())).getResult();
        assertEquals(uncrashed, outcome);
    }

    /**
     * The options reach the step through {@link DbosTxSteps} too, in a DBOS workflow and outside
     * one: the isolation level asked for, a read-only transaction that refuses writes and records
     * nothing (the same entry points × options as core's {@code StepOptionsContract}).
     */
    @Test
    void theOptionsReachTheStepInAndOutsideADbosWorkflow() throws SQLException {
        String workflowId = workflowId();
        String outcome = dbos.startWorkflow(() -> workflows.options("sku-o"), new StartWorkflowOptions(workflowId))
                .getResult();
        assertTrue(outcome.startsWith("read committed\n") && !outcome.endsWith("wrote"), outcome);
        assertEquals(List.of("0:level"), tables.txstepSteps(workflowId), "the read-only step recorded nothing");
        assertEquals(List.of(), tables.effects(workflowId), "its write was refused");

        String outside = "outside-" + workflowId;
        assertThrows(RuntimeException.class, () -> Workflow.runBlocking(outside,
                () -> steps.runTxStep(DatasourceOptions.named("read-only").asReadOnly(), tx -> tx.execute("INSERT INTO "
                        + tables.table("effects") + " (workflow_id, step) VALUES ('" + outside + "', 'read-only')"))));
        assertEquals("read committed", Workflow.runBlocking(outside, () -> steps.runTxStep(
                new DatasourceOptions("level", IsolationLevel.READ_COMMITTED),
                tx -> tx.query("SHOW transaction_isolation", (row, meta) -> row.get(0, String.class)).get(0))));
        assertEquals(List.of("0:level"), tables.txstepSteps(outside), "each run is an execution from step 0");
        assertEquals(List.of(), tables.effects(outside));
    }

    @Test
    void outsideADbosWorkflowAStepIsTxstepsOwn() throws SQLException {
        Function<BlockingTxSession, Long> insert = tx -> tx.execute("INSERT INTO " + tables.table("effects")
                + " (workflow_id, step) VALUES ($1, 'plain')", tx.stepKey().map(StepKey::workflowId).orElse("none"));

        // No workflow at all: a plain transaction, nothing recorded.
        assertEquals(1L, steps.runTxStep(DatasourceOptions.named("plain"), insert));
        assertEquals(List.of("-:plain x1"), tables.effects("none"));
        assertEquals(0, TestDatabases.queryLong(url, "SELECT COUNT(*) FROM " + tables.table("datasource_outputs")));

        // A txstep workflow bound to the thread: recorded under its id, replayed on the next run.
        String workflowId = workflowId();
        for (int run = 0; run < 2; run++) {
            assertEquals(1L, Workflow.runBlocking(workflowId,
                    () -> steps.runTxStep(DatasourceOptions.named("plain"), insert)));
        }
        assertEquals(List.of("0:plain"), tables.txstepSteps(workflowId));
        assertEquals(List.of("-:plain x1"), tables.effects(workflowId), "replayed, not run again");
    }

    @Test
    void nestedStepsAreRefused() throws SQLException {
        String workflowId = workflowId();
        String outcome = dbos.startWorkflow(() -> workflows.nested("sku-3"), new StartWorkflowOptions(workflowId))
                .getResult();

        String[] refusals = outcome.split("\n");
        assertEquals(2, refusals.length, outcome);
        assertTrue(refusals[0].startsWith(InvalidInputException.class.getName() + ": step 'inner' was started inside"
                + " the function of step (" + workflowId + ", 0)"), refusals[0]);
        assertTrue(refusals[1].startsWith(InvalidInputException.class.getName() + ": step 'inner' was started inside"
                + " DBOS step 1 of workflow '" + workflowId + "'"), refusals[1]);
        // The outer step failed with the refusal: its effect was rolled back, and txstep recorded
        // nothing (a refusal is txstep's verdict, not the step's outcome).
        assertEquals(List.of(), tables.effects(workflowId));
        assertEquals(List.of(), tables.txstepSteps(workflowId));
    }

    @Test
    void refusesWhatCannotBeKeyed() {
        Function<BlockingTxSession, Integer> fn = tx -> 1;
        assertThrows(InvalidInputException.class, () -> steps.runTxStep(null, fn));
        assertThrows(InvalidInputException.class, () -> steps.runTxStep(new DatasourceOptions(null, null), fn));
        assertThrows(InvalidInputException.class, () -> steps.runTxStep(DatasourceOptions.named("x"), null));
        assertThrows(InvalidInputException.class, () -> DbosTxSteps.create(null, ds));
        assertThrows(InvalidInputException.class, () -> DbosTxSteps.create(dbos, (AsyncDatasource) null));
    }

    private static String workflowId() {
        return "dbos-" + UUID.randomUUID();
    }
}
