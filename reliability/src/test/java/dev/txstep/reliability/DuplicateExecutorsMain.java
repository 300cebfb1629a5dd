package dev.txstep.reliability;

import dev.txstep.AsyncDatasource;
import dev.txstep.IsolationLevel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * One executor process of {@link DuplicateExecutorsTest}: runs the duplicate-executors workflow once
 * and writes what it returned.
 *
 * <p>Arguments: R2DBC URL, schema, workflow id, number of steps, isolation level, ready file, go
 * file, result file. The child opens its datasource, creates the ready file, waits until the test
 * creates the go file (so that all executors start together, whatever their JVMs' start-up times),
 * runs the workflow and writes the result file: the number of step-function calls on the first
 * line, then one output per line in step order. It is written under another name and moved into
 * place, so the test never reads half a file. Exit status 0 on success, 1 on any failure (with
 * its stack trace on standard error).
 */
final class DuplicateExecutorsMain {

    private DuplicateExecutorsMain() {
    }

    public static void main(String[] args) {
        try {
            run(args);
            System.exit(0);
        } catch (Throwable t) {
            t.printStackTrace();
            System.exit(1);
        }
    }

    private static void run(String[] args) throws Exception {
        String url = args[0];
        String schema = args[1];
        String workflowId = args[2];
        int steps = Integer.parseInt(args[3]);
        IsolationLevel level = IsolationLevel.valueOf(args[4]);
        Path ready = Path.of(args[5]);
        Path go = Path.of(args[6]);
        Path result = Path.of(args[7]);

        // The test migrated the schema before starting any child.
        AsyncDatasource ds = AsyncDatasource.create(AsyncDatasource.Config.builder()
                        .url(url).schema(schema).migrate(false).initialPoolSize(1).maxPoolSize(4).build())
                .block(Duration.ofSeconds(60));
        try {
            DuplicateExecutorsWorkload workload = new DuplicateExecutorsWorkload(schema, level);
            Files.createFile(ready);
            awaitFile(go, Duration.ofSeconds(120));
            List<String> outputs = workload.run(ds, workflowId, steps).block(Duration.ofMinutes(10));

            List<String> lines = new ArrayList<>(outputs.size() + 1);
            lines.add(Integer.toString(workload.functionRuns()));
            lines.addAll(outputs);
            Path partial = result.resolveSibling(result.getFileName() + ".partial");
            Files.write(partial, lines);
            Files.move(partial, result, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            ds.close().block(Duration.ofSeconds(30));
        }
    }

    private static void awaitFile(Path file, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!Files.exists(file)) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the test never created " + file);
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
        }
    }
}
