package dev.txstep.reactor.dbos;

import dev.dbos.transact.DBOS;
import dev.dbos.transact.StartWorkflowOptions;
import dev.txstep.AsyncDatasource;
import dev.txstep.DatasourceConfig;
import dev.txstep.observe.StepEvent;
import dev.txstep.observe.StepObserver;
import dev.txstep.observe.StepOutcome;
import dev.txstep.testing.TestDatabases;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BiConsumer;

/**
 * The process {@link DbosTxStepsCrashTest} kills: a DBOS application whose workflows stop at the
 * moments a crash is to hit, say so on standard output ({@value #PAUSED} and what), and wait there
 * for the SIGKILL.
 *
 * <p>Arguments: the system database's name, the application schema, then three workflow ids:
 * <ol>
 *   <li>{@code placeOrder} stopped after DBOS recorded step 2 ({@code charge}) — a crash after
 *       both records;</li>
 *   <li>{@code outOfStock} stopped after DBOS recorded step 0's error;</li>
 *   <li>{@code placeOrder} stopped after txstep committed step 2 but before DBOS recorded it:
 *       inside the datasource's observer, which hears of the step after its commit and before the
 *       workflow does. Started last, once the others are stopped, because it stops a thread the
 *       database driver needs.</li>
 * </ol>
 */
final class DbosCrashChild {

    /** The first word of the line printed at each stop. */
    static final String PAUSED = "PAUSED";

    private static final CountDownLatch FIRST_TWO_PAUSED = new CountDownLatch(2);

    private DbosCrashChild() {
    }

    /**
     * Runs the three workflows up to their stops and waits to be killed; exits with 1 if
     * anything fails first.
     *
     * @param args system database, schema, and the three workflow ids
     */
    public static void main(String[] args) {
        try {
            run(DbosSystemDatabase.named(args[0]), args[1], args[2], args[3], args[4]);
        } catch (Throwable e) {
            e.printStackTrace();
            System.out.println("FAILED " + e);
            System.out.flush();
            System.exit(1);
        }
    }

    private static void run(DbosSystemDatabase systemDb, String schema, String afterBothRecords,
            String afterDbosRecordedError, String afterTxstepCommit) throws InterruptedException {
        StepObserver stopAfterCommit = new StepObserver() {
            @Override
            public void stepFinished(StepEvent event) {
                if (event.key() != null && event.key().workflowId().equals(afterTxstepCommit)
                        && event.stepName().equals("charge") && event.outcome() == StepOutcome.EXECUTED) {
                    pause("txstep committed " + event.key());
                }
            }
        };
        AsyncDatasource ds = AsyncDatasource.create(DatasourceConfig.builder()
                .url(TestDatabases.postgresR2dbcUrl()).schema(schema).observer(stopAfterCommit).build()).block();
        DBOS dbos = new DBOS(systemDb.config());
        BiConsumer<String, String> stopAtCheckpoints = (workflowId, point) -> {
            if (workflowId.equals(afterBothRecords) && point.equals("after-charge")
                    || workflowId.equals(afterDbosRecordedError) && point.equals("after-reserve")) {
                FIRST_TWO_PAUSED.countDown();
                pause(point + " of " + workflowId);
            }
        };
        ShopTables tables = new ShopTables(TestDatabases.postgresR2dbcUrl(), schema);
        ShopWorkflows workflows = dbos.registerProxy(ShopWorkflows.class,
                new ShopWorkflowsImpl(dbos, DbosTxSteps.create(dbos, ds), tables, stopAtCheckpoints));
        dbos.launch();
        ShopWorkflows.Order order = DbosTxStepsCrashTest.ORDER;
        dbos.startWorkflow(() -> workflows.placeOrder(order), new StartWorkflowOptions(afterBothRecords));
        dbos.startWorkflow(() -> workflows.outOfStock(order.sku()), new StartWorkflowOptions(afterDbosRecordedError));
        if (!FIRST_TWO_PAUSED.await(60, TimeUnit.SECONDS)) {
            throw new IllegalStateException("the first two workflows did not reach their stops");
        }
        dbos.startWorkflow(() -> workflows.placeOrder(order), new StartWorkflowOptions(afterTxstepCommit));
        while (true) {
            LockSupport.park();
        }
    }

    /** Says where this thread stopped, then never returns. */
    private static void pause(String where) {
        System.out.println(PAUSED + " " + where);
        System.out.flush();
        while (true) {
            LockSupport.park();
        }
    }
}
