package dev.txstep.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.txstep.AsyncDatasource;
import dev.txstep.reactor.Workflow;
import io.r2dbc.pool.ConnectionPool;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;
import reactor.core.publisher.Flux;

/**
 * The memory mode: one workflow streams {@code memory-steps} steps ({@code Flux.range(..)
 * .concatMap(step)} inside one {@code Workflow.run}), and every {@code memory-checkpoint} steps the
 * heap in use after a forced GC is read. If a workflow execution kept something per step, the heap
 * would grow with the step count; flat readings show it does not. Writes memory.json and memory.md.
 */
final class MemoryBenchmark {

    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * One reading.
     *
     * @param steps    steps completed
     * @param heap     heap in use after GC, bytes
     * @param seconds  time since the workflow started
     */
    record Checkpoint(long steps, long heap, double seconds) {
    }

    private final BenchOptions options;
    private final String runId;

    MemoryBenchmark(BenchOptions options, String runId) {
        this.options = options;
        this.runId = runId;
    }

    void run(Path out) throws Exception {
        Postgres postgres = options.postgres();
        BenchDatabase database = new BenchDatabase(postgres);
        database.create();
        TxStepDatasources.install(postgres);
        int steps = options.memorySteps();
        int every = options.memoryCheckpoint();
        ConnectionPool pool = R2dbcPools.open(postgres, 1);
        AsyncDatasource datasource = TxStepDatasources.open(pool);
        List<Checkpoint> checkpoints = new ArrayList<>();
        try {
            TxStepTransfer transfer = new TxStepTransfer(datasource, Isolation.READ_COMMITTED);
            checkpoints.add(new Checkpoint(0, HeapProbe.usedAfterGc(), 0));
            Progress.log("memory: one workflow of %d steps, heap read every %d steps; before: %.1f MiB", steps, every,
                    mib(checkpoints.get(0).heap()));
            long started = System.nanoTime();
            AtomicLong completed = new AtomicLong();
            Workflow.run("memory-" + runId, Flux.range(0, steps)
                            .concatMap(i -> transfer.step())
                            .doOnNext(ignored -> {
                                long n = completed.incrementAndGet();
                                if (n % every == 0 || n == steps) {
                                    // Runs on the step's event-loop thread: the stream pauses while
                                    // the heap is read, which is what we want (no step in flight).
                                    Checkpoint c = new Checkpoint(n, HeapProbe.usedAfterGc(),
                                            (System.nanoTime() - started) / 1e9);
                                    checkpoints.add(c);
                                    Progress.log("memory: %,d steps, heap after GC %.1f MiB, %.0f steps/s", n,
                                            mib(c.heap()), n / c.seconds());
                                }
                            })
                            .then())
                    .block(Duration.ofHours(12));
        } finally {
            TxStepDatasources.close(datasource, pool);
            if (!options.keep()) {
                database.drop();
            }
        }
        write(out, steps, checkpoints);
    }

    private void write(Path out, int steps, List<Checkpoint> checkpoints) throws Exception {
        Files.createDirectories(out);
        Checkpoint first = checkpoints.get(Math.min(1, checkpoints.size() - 1));
        Checkpoint last = checkpoints.get(checkpoints.size() - 1);
        double bytesPerStep = last.steps() == first.steps() ? 0
                : (last.heap() - first.heap()) / (double) (last.steps() - first.steps());

        ObjectNode root = JSON.createObjectNode();
        root.put("runId", runId);
        root.put("steps", steps);
        root.put("bytesPerStepAfterFirstCheckpoint", Math.round(bytesPerStep * 100) / 100.0);
        ArrayNode list = root.putArray("checkpoints");
        for (Checkpoint c : checkpoints) {
            list.addObject().put("steps", c.steps()).put("heapUsedBytes", c.heap()).put("seconds", c.seconds());
        }
        JSON.writerWithDefaultPrettyPrinter().writeValue(out.resolve("memory.json").toFile(), root);

        StringBuilder md = new StringBuilder("# Memory: one workflow of ").append(String.format(Locale.ROOT, "%,d", steps))
                .append(" steps\n\nHeap in use after a forced GC (MemoryMXBean.gc() twice), read between steps.\n\n")
                .append("| steps | heap MiB | elapsed s |\n|--:|--:|--:|\n");
        for (Checkpoint c : checkpoints) {
            md.append(String.format(Locale.ROOT, "| %,d | %.1f | %.1f |%n", c.steps(), mib(c.heap()), c.seconds()));
        }
        md.append(String.format(Locale.ROOT, "%nGrowth from %,d to %,d steps: %.2f bytes per step.%n",
                first.steps(), last.steps(), bytesPerStep));
        Files.writeString(out.resolve("memory.md"), md.toString());
        Progress.log("memory: %.2f bytes/step from %,d to %,d steps; results in %s", bytesPerStep, first.steps(),
                last.steps(), out.toAbsolutePath());
    }

    private static double mib(long bytes) {
        return bytes / (1024.0 * 1024.0);
    }
}
