package dev.txstep.internal.engine;

import dev.txstep.StepKey;
import dev.txstep.internal.store.OutputRow;
import dev.txstep.internal.store.OutputStore;
import dev.txstep.observe.StepOutcome;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;

/**
 * Records a function's error as its step's outcome, in a small transaction of its own after the
 * step's transaction rolled back. If another executor recorded the step first, its outcome is
 * this step's. If recording fails (the database went away), the error is still raised; the step
 * is then unrecorded and a replay runs it again.
 */
final class ErrorRecorder {

    private static final Logger LOG = LoggerFactory.getLogger(StepEngine.class);

    private final OutputStore store;
    private final OutputCodec codec;

    ErrorRecorder(OutputStore store, OutputCodec codec) {
        this.store = store;
        this.codec = codec;
    }

    /**
     * @return on subscribe, records; errors with {@link StepFailure.FunctionFailed} carrying
     *         {@code error}, or emits the winner's outcome as {@link StepOutcome#CONFLICTED}
     */
    Mono<StepResult> record(StepKey key, StepSpec spec, Throwable error) {
        OutputRow row = new OutputRow(key, spec.name(), null, ErrorCodec.encode(error), codec.serializerName(),
                System.currentTimeMillis());
        return store.insertAlone(row)
                .onErrorResume(recordingFailure -> {
                    // The error stays the step's outcome for this caller; unrecorded, a replay runs the step again.
                    LOG.warn("could not record the error of step {}: {}", key, recordingFailure.toString());
                    return Mono.just(Boolean.TRUE);
                })
                .flatMap(inserted -> inserted
                        ? Mono.<StepResult>error(new StepFailure.FunctionFailed(error))
                        : store.find(key).flatMap(winner -> winner.isPresent()
                                ? codec.replay(winner.get(), spec, StepOutcome.CONFLICTED)
                                : Mono.<StepResult>error(new StepFailure.FunctionFailed(error))));
    }
}
