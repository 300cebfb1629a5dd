package dev.txstep.bench;

import dev.txstep.AsyncDatasource;
import dev.txstep.BlockingDatasource;
import dev.txstep.DatasourceOptions;
import dev.txstep.reactor.Workflow;
import io.r2dbc.pool.ConnectionPool;
import reactor.core.scheduler.Schedulers;

/**
 * Variant 4: the blocking facade. A fixed pool of {@code concurrency} threads each runs workflows
 * ({@code Workflow.runBlocking}) of {@code stepsPerWorkflow} sequential {@code runTxStep} calls
 * under fresh ids.
 *
 * <p>{@code BlockingDatasource} runs each step's function on {@code Schedulers.boundedElastic()},
 * which has at most {@link Schedulers#DEFAULT_BOUNDED_ELASTIC_SIZE} threads (10 per core). The
 * variant counts how many step functions run at once; when that peak equals the cap while the
 * concurrency is higher, the scheduler — not the database or the pool — is what limits this
 * variant, and the note says so.
 */
final class TxStepBlockingVariant extends InProcessVariant {

    private final Postgres postgres;
    private final int stepsPerWorkflow;
    private final WorkflowIds ids;

    TxStepBlockingVariant(Postgres postgres, int stepsPerWorkflow, String runId) {
        this.postgres = postgres;
        this.stepsPerWorkflow = stepsPerWorkflow;
        this.ids = new WorkflowIds(runId, name());
    }

    @Override
    public String name() {
        return "txstep-blocking";
    }

    @Override
    public String description() {
        return "txstep BlockingDatasource.runTxStep from a fixed thread pool of the concurrency's size,"
                + " first execution, workflows of " + stepsPerWorkflow + " steps (Workflow.runBlocking)";
    }

    @Override
    Load open(Setting setting, Recorder recorder) {
        ConnectionPool pool = R2dbcPools.open(postgres, setting.poolSize());
        AsyncDatasource async = TxStepDatasources.open(pool);
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
        }), recorder, "bench-blocking");
        return Load.of(workers, () -> {
            int peak = functions.peak();
            int cap = Schedulers.DEFAULT_BOUNDED_ELASTIC_SIZE;
            String gauge = "peak " + peak + " step functions at once (boundedElastic cap " + cap + ")";
            return peak >= cap && setting.concurrency() > cap ? "LIMITED by boundedElastic: " + gauge : gauge;
        }, () -> TxStepDatasources.close(async, pool));
    }
}
