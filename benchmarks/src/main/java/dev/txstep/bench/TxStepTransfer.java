package dev.txstep.bench;

import dev.txstep.AsyncDatasource;
import dev.txstep.DatasourceOptions;
import java.util.concurrent.atomic.LongAdder;
import reactor.core.publisher.Mono;

/**
 * The benchmark's transaction as a txstep step: {@code runTxStepAsync} with an explicit name (no
 * stack walk for a default name) and a typed output (the UPDATE's row count, recorded as {@code 1};
 * or, for an output-size run, a string of {@link Setting#outputBytes()} serialized bytes, see
 * {@link StepOutputs}). Counts how often the step's function actually ran, so a replay can prove it
 * ran nothing.
 */
final class TxStepTransfer {

    private final AsyncDatasource datasource;
    private final DatasourceOptions options;
    private final LongAdder functionRuns = new LongAdder();
    /** Null for the row count; else the string the step returns. */
    private final String output;

    TxStepTransfer(AsyncDatasource datasource, Isolation isolation) {
        this(datasource, isolation, Setting.DEFAULT_OUTPUT_BYTES);
    }

    /**
     * @param outputBytes the serialized output's length; {@link Setting#DEFAULT_OUTPUT_BYTES} for
     *                    the row count
     */
    TxStepTransfer(AsyncDatasource datasource, Isolation isolation, int outputBytes) {
        this.datasource = datasource;
        this.options = new DatasourceOptions("transfer", isolation.txstep());
        this.output = outputBytes == Setting.DEFAULT_OUTPUT_BYTES ? null
                : (String) StepOutputs.of(outputBytes).value();
    }

    /**
     * @return one step, lazy: nothing runs before subscription
     */
    Mono<?> step() {
        int account = Transfers.randomAccount();
        long amount = Transfers.randomAmount();
        if (output != null) {
            return datasource.runTxStepAsync(options, String.class, tx -> {
                functionRuns.increment();
                return tx.execute(Transfers.UPDATE, amount, account)
                        .flatMap(updated -> tx.execute(Transfers.INSERT, account, amount).thenReturn(output));
            });
        }
        return datasource.runTxStepAsync(options, Long.class, tx -> {
            functionRuns.increment();
            return tx.execute(Transfers.UPDATE, amount, account)
                    .flatMap(updated -> tx.execute(Transfers.INSERT, account, amount).thenReturn(updated));
        });
    }

    /**
     * @param recorder where the step's latency goes
     * @return one step that reports its latency, measured from subscription, when it succeeds
     */
    Mono<?> timedStep(Recorder recorder) {
        return Mono.defer(() -> {
            long started = System.nanoTime();
            return step().doOnSuccess(ignored -> recorder.completed(System.nanoTime() - started));
        });
    }

    /** @return how many times a step's function has run (retries count again) */
    long functionRuns() {
        return functionRuns.sum();
    }
}
