package dev.txstep.reliability;

import dev.txstep.AsyncDatasource;
import dev.txstep.DatasourceConfig;
import dev.txstep.DatasourceOptions;
import dev.txstep.reactor.Workflow;
import dev.txstep.testing.TestSchema;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.Result;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The process {@link CrashInjectionTest} kills: runs the crash workflow once, from step 0, and
 * writes the outputs it returned (one per line, in step order) when it completes.
 *
 * <p>Arguments: R2DBC URL, schema, number of steps, run number, ready file, go file, result file.
 * The child starts as a standby: it opens its datasource, runs a throwaway one-step workflow (so
 * that classes are loaded and connections open when the kills come), creates the ready file and
 * waits for the go file, which names the workflow to run. The test boots the next run's JVM while
 * the current one works, so a restart costs no JVM start-up. The result file is written under
 * another name and moved into place, so a kill never leaves half of one. Exit status 0 on
 * success, 1 on any failure (stack trace on standard error); SIGKILL shows as 137.
 *
 * <p>The workflow ({@link #workflow}) is also what the test runs uncrashed, in its own JVM, for
 * the outputs to compare with.
 */
final class CrashInjectionMain {

    private CrashInjectionMain() {
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
        int steps = Integer.parseInt(args[2]);
        int run = Integer.parseInt(args[3]);
        Path ready = Path.of(args[4]);
        Path go = Path.of(args[5]);
        Path result = Path.of(args[6]);

        // The test migrated the schema; skipping Flyway here makes the child start sooner.
        AsyncDatasource ds = AsyncDatasource.create(DatasourceConfig.builder()
                        .url(url).schema(schema).migrate(false).initialPoolSize(2).maxPoolSize(4).build())
                .block(Duration.ofSeconds(60));
        try {
            String warmUp = "warm-up-" + run;
            Workflow.run(warmUp, ds.runTxStepAsync(DatasourceOptions.named("warm-up"), String.class,
                            tx -> functionStarted(ds, schema, warmUp, run, 0).thenReturn("warm")))
                    .block(Duration.ofSeconds(60));
            Files.createFile(ready);
            ChildJvm.awaitFile(go, Duration.ofMinutes(5));
            String workflowId = Files.readString(go).trim();
            List<String> outputs = workflow(ds, schema, workflowId, steps, run).block(Duration.ofMinutes(5));
            ChildJvm.writeAtomically(result, outputs);
        } finally {
            ds.close().block(Duration.ofSeconds(30));
        }
    }

    /**
     * Creates the workflow's tables: {@code effects(workflow_id, step)} with no key at all, so that
     * a step applied twice shows as two rows; {@code counter(workflow_id, n)}; and
     * {@code function_starts(workflow_id, run, step)}, the probe that tells where a kill landed.
     */
    static void createTables(TestSchema db) {
        db.exec("CREATE TABLE " + db.q("effects") + " (workflow_id text NOT NULL, step int NOT NULL)");
        db.exec("CREATE TABLE " + db.q("counter") + " (workflow_id text PRIMARY KEY, n bigint NOT NULL)");
        db.exec("CREATE TABLE " + db.q("function_starts") + " (workflow_id text NOT NULL, run int NOT NULL,"
                + " step int NOT NULL)");
    }

    /**
     * The workflow: {@code steps} steps in order; step {@code i} inserts its effect row, adds
     * {@code i + 1} to the workflow's counter and returns a text made of its input and what the
     * database then holds (the counter, the workflow's effect count). An uncrashed run returns
     * {@code "step i: sum (i+1)(i+2)/2, effects i+1"}; a step applied twice, or a lost one, changes
     * the outputs of every later step. The workflow's counter row must exist (at 0).
     *
     * @param run which process runs it, recorded by the probe
     */
    static Mono<List<String>> workflow(AsyncDatasource ds, String schema, String workflowId, int steps, int run) {
        String effects = "\"" + schema + "\".effects";
        String counter = "\"" + schema + "\".counter";
        return Workflow.run(workflowId, Flux.range(0, steps).concatMap(i ->
                ds.runTxStepAsync(DatasourceOptions.named("crash-step-" + i), String.class, tx ->
                        functionStarted(ds, schema, workflowId, run, i)
                                .then(tx.execute("INSERT INTO " + effects + " (workflow_id, step) VALUES ($1, $2)",
                                        workflowId, i))
                                .then(tx.query("UPDATE " + counter + " SET n = n + $2 WHERE workflow_id = $1 RETURNING n",
                                        (row, meta) -> row.get(0, Long.class), workflowId, (long) i + 1).single())
                                .flatMap(sum -> tx.query("SELECT COUNT(*) FROM " + effects + " WHERE workflow_id = $1",
                                                (row, meta) -> row.get(0, Long.class), workflowId).single()
                                        .map(count -> "step " + i + ": sum " + sum + ", effects " + count))))
                .collectList());
    }

    /**
     * The probe: records, outside the step's transaction (auto-committed on a connection of its
     * own), that this run called step {@code i}'s function. A kill that rolls the step back leaves
     * this row, which is how the test knows the kill landed inside an open step transaction.
     */
    private static Mono<Void> functionStarted(AsyncDatasource ds, String schema, String workflowId, int run, int step) {
        return Mono.usingWhen(Mono.from(ds.connectionFactory().create()),
                (Connection c) -> Flux.from(c.createStatement("INSERT INTO \"" + schema + "\".function_starts"
                                        + " (workflow_id, run, step) VALUES ($1, $2, $3)")
                                .bind(0, workflowId).bind(1, run).bind(2, step).execute())
                        .concatMap(Result::getRowsUpdated)
                        .then(),
                Connection::close);
    }
}
