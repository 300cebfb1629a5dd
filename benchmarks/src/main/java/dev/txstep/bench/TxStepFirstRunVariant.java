package dev.txstep.bench;

import dev.txstep.AsyncDatasource;
import dev.txstep.reactor.Workflow;
import io.r2dbc.pool.ConnectionPool;
import reactor.core.publisher.Flux;

/**
 * Variant 2: first executions. Each worker runs workflows of {@code stepsPerWorkflow} sequential
 * {@code runTxStepAsync} steps ({@code Flux.range(..).concatMap(step)} inside {@code Workflow.run}),
 * every workflow under a fresh id, so every step runs and records its output. Concurrency is the
 * number of workflows in flight; an operation is one step.
 */
final class TxStepFirstRunVariant extends InProcessVariant {

    private final Postgres postgres;
    private final int stepsPerWorkflow;
    private final WorkflowIds ids;

    TxStepFirstRunVariant(Postgres postgres, int stepsPerWorkflow, String runId) {
        this.postgres = postgres;
        this.stepsPerWorkflow = stepsPerWorkflow;
        this.ids = new WorkflowIds(runId, name());
    }

    @Override
    public String name() {
        return "txstep-first";
    }

    @Override
    public String description() {
        return "txstep runTxStepAsync, first execution: workflows of " + stepsPerWorkflow
                + " sequential steps under fresh ids (Workflow.run)";
    }

    @Override
    Load open(Setting setting, Recorder recorder) {
        ConnectionPool pool = R2dbcPools.open(postgres, setting.poolSize());
        AsyncDatasource datasource = TxStepDatasources.open(pool);
        TxStepTransfer transfer = new TxStepTransfer(datasource, setting.isolation(), setting.outputBytes());
        ReactiveWorkers workers = new ReactiveWorkers(setting.concurrency(),
                () -> Workflow.run(ids.next(), Flux.range(0, stepsPerWorkflow)
                        .concatMap(i -> transfer.timedStep(recorder))
                        .then()),
                recorder);
        return Load.of(workers, null, () -> TxStepDatasources.close(datasource, pool));
    }
}
