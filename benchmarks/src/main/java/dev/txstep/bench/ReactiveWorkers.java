package dev.txstep.bench;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * {@code concurrency} reactive loops, each subscribing to a fresh operation as soon as the previous
 * one completed: a closed system with a fixed number of operations in flight, and no thread per
 * operation. An operation that fails is reported and the loop goes on.
 */
final class ReactiveWorkers implements Workers {

    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(60);

    private final int concurrency;
    private final Supplier<Mono<?>> operation;
    private final Recorder recorder;
    private volatile boolean running;
    private CompletableFuture<Void> done;

    /**
     * @param concurrency loops in flight
     * @param operation   supplies one operation (a step, a workflow) per call; it reports its own
     *                    completions to the recorder
     * @param recorder    where failures are reported
     */
    ReactiveWorkers(int concurrency, Supplier<Mono<?>> operation, Recorder recorder) {
        this.concurrency = concurrency;
        this.operation = operation;
        this.recorder = recorder;
    }

    @Override
    public void start() {
        running = true;
        done = Flux.range(0, concurrency)
                .flatMap(worker -> Mono.defer(operation)
                        .onErrorResume(error -> {
                            recorder.failed(error);
                            return Mono.empty();
                        })
                        .repeat(() -> running), concurrency)
                .then()
                .toFuture();
    }

    @Override
    public void stop() throws Exception {
        running = false;
        done.get(STOP_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    }
}
