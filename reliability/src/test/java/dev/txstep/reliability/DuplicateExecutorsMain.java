package dev.txstep.reliability;

import dev.txstep.AsyncDatasource;
import dev.txstep.DatasourceConfig;
import dev.txstep.IsolationLevel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

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
        ChildJvm.runAndExit(() -> {
            run(args);
            return null;
        });
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
        AsyncDatasource ds = AsyncDatasource.create(DatasourceConfig.builder()
                        .url(url).schema(schema).migrate(false).initialPoolSize(1).maxPoolSize(4).build())
                .block(Duration.ofSeconds(60));
        try {
            DuplicateExecutorsWorkload workload = new DuplicateExecutorsWorkload(schema, level);
            Files.createFile(ready);
            ChildJvm.awaitFile(go, Duration.ofSeconds(120));
            List<String> outputs = workload.run(ds, workflowId, steps).block(Duration.ofMinutes(10));

            List<String> lines = new ArrayList<>(outputs.size() + 1);
            lines.add(Integer.toString(workload.functionRuns()));
            lines.addAll(outputs);
            ChildJvm.writeAtomically(result, lines);
        } finally {
            ds.close().block(Duration.ofSeconds(30));
        }
    }
}
