package dev.txstep.bench;

import dev.txstep.AsyncDatasource;
import dev.txstep.reactor.Workflow;
import io.r2dbc.pool.ConnectionPool;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import reactor.core.publisher.Flux;

/**
 * Variant 3: replays. Before its first measurement at an isolation level (untimed, once per run)
 * it records {@code workflows} workflows of {@code stepsPerWorkflow} steps; its workers then run
 * the same workflow ids again, round-robin, so every step returns its recorded output without
 * running. It checks that no step function ran during the measurement and says so in the note if
 * one did.
 */
final class TxStepReplayVariant extends InProcessVariant {

    /** Connections for recording: enough to record quickly whatever the measured concurrency. */
    private static final int RECORDING_CONCURRENCY = 16;

    private final Postgres postgres;
    private final int stepsPerWorkflow;
    private final int workflows;
    private final WorkflowIds ids;
    private final Map<Isolation, String[]> recorded = new EnumMap<>(Isolation.class);

    TxStepReplayVariant(Postgres postgres, int stepsPerWorkflow, int workflows, String runId) {
        this.postgres = postgres;
        this.stepsPerWorkflow = stepsPerWorkflow;
        this.workflows = workflows;
        this.ids = new WorkflowIds(runId, name());
    }

    @Override
    public String name() {
        return "txstep-replay";
    }

    @Override
    public String description() {
        return "txstep replay: the same " + workflows + " recorded workflows of " + stepsPerWorkflow
                + " steps run again, round-robin; no step function runs";
    }

    @Override
    Load open(Setting setting, Recorder recorder) {
        String[] workflowIds = recorded.computeIfAbsent(setting.isolation(), this::record);
        ConnectionPool pool = R2dbcPools.open(postgres, setting.poolSize());
        AsyncDatasource datasource = TxStepDatasources.open(pool);
        TxStepTransfer transfer = new TxStepTransfer(datasource, setting.isolation());
        AtomicLong next = new AtomicLong();
        ReactiveWorkers workers = new ReactiveWorkers(setting.concurrency(),
                () -> Workflow.run(workflowIds[(int) (next.getAndIncrement() % workflowIds.length)],
                        Flux.range(0, stepsPerWorkflow)
                                .concatMap(i -> transfer.timedStep(recorder))
                                .then()),
                recorder);
        return Load.of(workers, () -> {
            long ran = transfer.functionRuns();
            return ran == 0 ? null : "ERROR: " + ran + " step functions ran during replay";
        }, () -> TxStepDatasources.close(datasource, pool));
    }

    /** Records the workflows this isolation level's measurements replay. Untimed. */
    private String[] record(Isolation isolation) {
        long started = System.nanoTime();
        String[] workflowIds = new String[workflows];
        for (int i = 0; i < workflows; i++) {
            workflowIds[i] = ids.next();
        }
        ConnectionPool pool = R2dbcPools.open(postgres, RECORDING_CONCURRENCY);
        AsyncDatasource datasource = TxStepDatasources.open(pool);
        try {
            TxStepTransfer transfer = new TxStepTransfer(datasource, isolation);
            Flux.fromArray(workflowIds)
                    .flatMap(id -> Workflow.run(id, Flux.range(0, stepsPerWorkflow)
                            .concatMap(i -> transfer.step())
                            .then()), RECORDING_CONCURRENCY)
                    .then()
                    .block(Duration.ofMinutes(10));
        } finally {
            TxStepDatasources.close(datasource, pool);
        }
        Progress.log("%s: recorded %d workflows x %d steps at %s in %.1f s", name(), workflows,
                stepsPerWorkflow, isolation, (System.nanoTime() - started) / 1e9);
        return workflowIds;
    }
}
