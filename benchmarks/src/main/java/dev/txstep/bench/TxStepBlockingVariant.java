package dev.txstep.bench;

import dev.txstep.AsyncDatasource;
import dev.txstep.BlockingDatasource;
import dev.txstep.DatasourceOptions;
import dev.txstep.reactor.Workflow;
import io.r2dbc.pool.ConnectionPool;

/**
 * Variant 4: the blocking facade. A fixed pool of {@code concurrency} threads each runs workflows
 * ({@code Workflow.runBlocking}) of {@code stepsPerWorkflow} sequential {@code runTxStep} calls
 * under fresh ids.
 *
 * <p>{@code BlockingDatasource} runs each step's function on the thread that called it (it used to
 * run them on {@code Schedulers.boundedElastic()}, at most ten threads per core, which capped this
 * variant at c=64). The variant counts how many step functions run at once and says so in its
 * note: with the callers' threads running them, the peak follows the concurrency. With
 * {@code --caller-threads virtual} (JDK 21+) the callers are virtual threads.
 */
final class TxStepBlockingVariant extends InProcessVariant {

    private final Postgres postgres;
    private final int stepsPerWorkflow;
    private final boolean virtualCallers;
    private final WorkflowIds ids;

    TxStepBlockingVariant(Postgres postgres, int stepsPerWorkflow, boolean virtualCallers, String runId) {
        this.postgres = postgres;
        this.stepsPerWorkflow = stepsPerWorkflow;
        this.virtualCallers = virtualCallers;
        this.ids = new WorkflowIds(runId, name());
    }

    @Override
    public String name() {
        return "txstep-blocking";
    }

    @Override
    public String description() {
        return "txstep BlockingDatasource.runTxStep from "
                + (virtualCallers ? "one virtual thread per caller" : "a fixed thread pool of the concurrency's size") + ","
                + " first execution, workflows of " + stepsPerWorkflow + " steps (Workflow.runBlocking)";
    }

    @Override
    Load open(Setting setting, Recorder recorder) {
        ConnectionPool pool = R2dbcPools.open(postgres, setting.poolSize());
        AsyncDatasource async = TxStepDatasources.open(pool, BenchDatabase.BLOCKING_SCHEMA);
        BlockingDatasource blocking = BlockingDatasource.wrap(async);
        DatasourceOptions options = new DatasourceOptions("transfer", setting.isolation().txstep());
        ConcurrencyGauge functions = new ConcurrencyGauge();
        // Null for the row count (the default); else the string of the output-size run.
        Object output = setting.outputBytes() == Setting.DEFAULT_OUTPUT_BYTES ? null
                : StepOutputs.of(setting.outputBytes()).value();
        ThreadWorkers workers = new ThreadWorkers(setting.concurrency(), () -> Workflow.runBlocking(ids.next(), () -> {
            for (int i = 0; i < stepsPerWorkflow; i++) {
                int account = Transfers.randomAccount();
                long amount = Transfers.randomAmount();
                long started = System.nanoTime();
                blocking.runTxStep(options, tx -> {
                    functions.enter();
                    try {
                        long updated = tx.execute(Transfers.UPDATE, amount, account);
                        tx.execute(Transfers.INSERT, account, amount);
                        return output == null ? (Object) updated : output;
                    } finally {
                        functions.exit();
                    }
                });
                recorder.completed(System.nanoTime() - started);
            }
            return null;
        }), recorder, "bench-blocking", virtualCallers);
        // The facade runs each function on its caller's thread: no worker pool caps how many run at once.
        return Load.of(workers, () -> "peak " + functions.peak() + " step functions at once",
                () -> TxStepDatasources.close(async, pool));
    }
}
