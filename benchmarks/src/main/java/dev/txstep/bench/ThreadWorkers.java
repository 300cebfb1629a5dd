package dev.txstep.bench;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code concurrency} threads, each running a blocking operation in a loop: a fixed pool of
 * platform threads, as blocking code (a servlet container's worker pool, say) calls a datasource,
 * or as many virtual threads (JDK 21+). An operation that throws is reported and the loop goes on.
 */
final class ThreadWorkers implements Workers {

    private static final long STOP_TIMEOUT_SECONDS = 60;

    private final int concurrency;
    private final Runnable operation;
    private final Recorder recorder;
    private final String name;
    private final boolean virtual;
    private volatile boolean running;
    private ExecutorService threads;

    /**
     * @param concurrency threads
     * @param operation   one operation; it reports its own completions to the recorder
     * @param recorder    where failures are reported
     * @param name        prefix of the threads' names, for profiles and thread dumps
     */
    ThreadWorkers(int concurrency, Runnable operation, Recorder recorder, String name) {
        this(concurrency, operation, recorder, name, false);
    }

    /**
     * @param virtual whether the threads are virtual (checked by {@link BenchOptions#virtualCallerThreads()})
     */
    ThreadWorkers(int concurrency, Runnable operation, Recorder recorder, String name, boolean virtual) {
        this.concurrency = concurrency;
        this.operation = operation;
        this.recorder = recorder;
        this.name = name;
        this.virtual = virtual;
    }

    @Override
    public void start() {
        running = true;
        AtomicInteger index = new AtomicInteger();
        threads = virtual ? virtualThreadPerTask() : Executors.newFixedThreadPool(concurrency, task -> {
            Thread thread = new Thread(task, name + "-" + index.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        });
        for (int i = 0; i < concurrency; i++) {
            threads.execute(this::loop);
        }
    }

    @Override
    public void stop() throws InterruptedException {
        running = false;
        threads.shutdown();
        if (!threads.awaitTermination(STOP_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            throw new IllegalStateException(name + " workers did not stop within " + STOP_TIMEOUT_SECONDS + " s");
        }
    }

    /** {@code Executors.newVirtualThreadPerTaskExecutor()}, found at run time: the module compiles for Java 17. */
    private static ExecutorService virtualThreadPerTask() {
        try {
            return (ExecutorService) Executors.class.getMethod("newVirtualThreadPerTaskExecutor").invoke(null);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("virtual threads need JDK 21 or later", e);
        }
    }

    private void loop() {
        while (running) {
            try {
                operation.run();
            } catch (RuntimeException | Error e) {
                recorder.failed(e);
            }
        }
    }
}
