package dev.txstep.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.txstep.AsyncDatasource;
import dev.txstep.DatasourceConfig;
import dev.txstep.DatasourceException;
import dev.txstep.DatasourceOptions;
import dev.txstep.RetriesExhaustedException;
import dev.txstep.RetryPolicy;
import dev.txstep.TxSession;
import dev.txstep.reactor.Workflow;
import dev.txstep.serialization.JacksonSerializer;
import dev.txstep.testing.TestDatabases;
import dev.txstep.testing.TestSchema;
import io.r2dbc.pool.ConnectionPool;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * R4, database restarts: while a workflow of many sequential steps runs, PostgreSQL is restarted
 * (a fast shutdown terminates every session, then the server starts again) several times. Each
 * step inserts an effect row keyed by its index into a table with no unique constraint, so a
 * duplicated effect would be counted rather than refused, and increments a counter. The run must
 * complete through txstep's retries, or fail with {@link RetriesExhaustedException} and complete
 * when the same workflow id is run again. Two retry policies: one whose waits outlast a restart
 * (the first run completes), and one that gives up while the server is down (a step's retries run
 * out, and the workflow is run again, as its caller would, until a run completes).
 *
 * <p>Proven by counting: one effect row for every step index, the counter equal to the number of
 * steps, one output row per step, no error recorded, each step's output showing it saw exactly the
 * increments of the steps before it, the final run's outputs equal to the recorded ones, a replay
 * that runs nothing, and a pool with no connection left acquired. The restarts happen when the
 * steps at 1/(r+1), 2/(r+1), … of the workflow first run, from inside that step's open
 * transaction (so every restart kills a live transaction and the next steps meet a server that is
 * down), on a private PostgreSQL server (see {@link DatabaseRestartPostgres}: the shared one is
 * never restarted).
 */
class DatabaseRestartTest {

    /** Runs of the workflow allowed before the scenario is declared failed. */
    private static final int MAX_RUNS = 10;

    /** The retry policies the workflow runs under. */
    enum Retries {
        /** Waits adding up to several seconds: a step outlasts a restart, the first run completes. */
        OUTLAST_A_RESTART(RetryPolicy.defaults().withMaxAttempts(10).withBackoff(Duration.ofMillis(100), Duration.ofSeconds(3))),
        /** Two attempts 10 ms apart: a step gives up while the server is down; the workflow is run again. */
        GIVE_UP_DURING_A_RESTART(RetryPolicy.defaults().withMaxAttempts(2).withBackoff(Duration.ofMillis(10), Duration.ofMillis(10)));

        final RetryPolicy policy;

        Retries(RetryPolicy policy) {
            this.policy = policy;
        }
    }

    /** One server for both policies: creating one costs seconds. */
    private static DatabaseRestartPostgres server;

    @BeforeAll
    static void startServer() {
        server = DatabaseRestartPostgres.start();
    }

    @AfterAll
    static void stopServer() {
        if (server != null) {
            server.close();
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Retries.class)
    @Timeout(value = 20, unit = TimeUnit.MINUTES)
    void aWorkflowCompletesExactlyOnceThroughDatabaseRestarts(Retries retries) throws Exception {
        int steps = Scale.pick(300, 2000);
        int restarts = Scale.pick(2, 4);
        int restartsBefore = server.restarts();
        Set<Integer> restartAt = IntStream.rangeClosed(1, restarts).map(k -> k * steps / (restarts + 1))
                .boxed().collect(Collectors.toSet());
        ExecutorService restarter = Executors.newSingleThreadExecutor();
        try {
            String url = server.r2dbcUrl();
            TestSchema db = new TestSchema(url, TestDatabases.uniqueSchema("r4restart"));
            AsyncDatasource ds = AsyncDatasource.create(DatasourceConfig.builder().url(url).schema(db.name())
                            .maxPoolSize(4).retryPolicy(retries.policy).build())
                    .block(Duration.ofSeconds(60));
            try {
                db.createCounter();
                // No unique constraint: a step whose effect happened twice leaves two rows.
                db.exec("CREATE TABLE " + db.q("effects") + " (step int NOT NULL)");

                AtomicIntegerArray invocations = new AtomicIntegerArray(steps);
                List<CompletableFuture<Void>> restartsDone = new CopyOnWriteArrayList<>();
                String workflowId = "restart-" + UUID.randomUUID();
                Mono<List<String>> workflow = Workflow.run(workflowId, Flux.range(0, steps)
                        .concatMap(i -> ds.runTxStepAsync(DatasourceOptions.named("step"), String.class, s -> {
                            boolean restartHere = invocations.incrementAndGet(i) == 1 && restartAt.contains(i);
                            // With the effect written but not committed, restart the server and wait in a
                            // statement only the restart ends: each restart kills a live transaction, and
                            // the steps after it meet a server that is down.
                            Mono<Void> restart = !restartHere ? Mono.empty() : Mono.fromRunnable(() -> restartsDone.add(
                                            CompletableFuture.runAsync(server::restart, restarter)))
                                    .then(s.query("SELECT pg_sleep(120)", (row, meta) -> 0).then());
                            return insertEffect(s, db, i).then(restart).then(incrementAndSee(s, db, i));
                        }))
                        .collectList());

                long start = System.nanoTime();
                List<String> failedRuns = new ArrayList<>();
                List<String> outputs = runUntilComplete(workflow, failedRuns);
                long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
                CompletableFuture.allOf(restartsDone.toArray(CompletableFuture[]::new)).get(5, TimeUnit.MINUTES);
                assertEquals(restarts, server.restarts() - restartsBefore, "the server was restarted while the steps ran");
                for (int i : restartAt) {
                    assertTrue(invocations.get(i) >= 2, "the restart killed step " + i + "'s transaction, and it ran again");
                }
                if (retries == Retries.GIVE_UP_DURING_A_RESTART && server.refusesConnectionsWhileRestarting()) {
                    assertTrue(failedRuns.size() >= 1, "a step gave up while the server was down");
                }

                assertEquals(steps, outputs.size());
                assertEquals(List.of(), stepsWithOtherThanOneEffect(db, steps), "every step's effect happened exactly once");
                assertEquals(steps, db.count("SELECT COUNT(*) FROM " + db.q("effects")));
                assertEquals(steps, db.counter(), "the counter was incremented once per step");
                assertEquals(steps, db.count("SELECT COUNT(*) FROM " + db.outputs()), "one output row per step");
                assertEquals(0, db.count("SELECT COUNT(*) FROM " + db.outputs() + " WHERE error IS NOT NULL"),
                        "no step recorded an error");
                // Step i saw the increments of steps 0..i-1 and its own, nothing else.
                List<String> expected = IntStream.range(0, steps).mapToObj(i -> "step-" + i + ":n=" + (i + 1)).toList();
                assertEquals(expected, outputs, "the completing run returned each step's exactly-once output");
                assertEquals(outputs, recordedOutputs(db, workflowId), "and those are the recorded outputs");

                int totalInvocations = IntStream.range(0, steps).map(invocations::get).sum();
                assertEquals(outputs, workflow.block(Duration.ofMinutes(2)), "a replay returns the recorded outputs");
                assertEquals(totalInvocations, IntStream.range(0, steps).map(invocations::get).sum(),
                        "and runs no step");
                assertEquals(steps, db.counter());
                assertPoolDrained(ds);

                Report.of("R4 database restart, " + retries.name().toLowerCase().replace('_', ' '))
                        .put("mode", server.mode())
                        .put("steps", steps)
                        .put("restarts", restarts)
                        .put("runs", failedRuns.size() + 1)
                        .put("failedRuns", failedRuns)
                        .put("retriedInvocations", totalInvocations - steps)
                        .put("effects", steps)
                        .put("counter", steps)
                        .put("outputRows", steps)
                        .put("ms", millis)
                        .publish();
            } finally {
                ds.close().block(Duration.ofSeconds(30));
                TestDatabases.exec(url, "DROP SCHEMA IF EXISTS \"" + db.name() + "\" CASCADE");
            }
        } finally {
            restarter.shutdownNow();
        }
    }

    /**
     * Runs the workflow until a run completes, as a caller would: a run that ends with an exhausted
     * retry (or an unknown outcome) is run again after a pause; any other error fails the scenario.
     * Collects the failed runs' errors.
     */
    private static List<String> runUntilComplete(Mono<List<String>> workflow, List<String> failedRuns)
            throws InterruptedException {
        while (true) {
            try {
                return workflow.block(Duration.ofMinutes(10));
            } catch (DatasourceException e) {
                if (!(e instanceof RetriesExhaustedException) && e.getClass() != DatasourceException.class) {
                    throw e;
                }
                failedRuns.add(e.getClass().getSimpleName() + "(" + rootCause(e) + ")");
            }
            if (failedRuns.size() >= MAX_RUNS) {
                fail("the workflow did not complete in " + MAX_RUNS + " runs: " + failedRuns);
            }
            Thread.sleep(500);
        }
    }

    private static String rootCause(Throwable error) {
        Throwable t = error;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t.getClass().getSimpleName() + ": " + t.getMessage();
    }

    /** The step's effect: a row for step {@code i}. */
    private static Mono<Long> insertEffect(TxSession s, TestSchema db, int i) {
        return s.execute("INSERT INTO " + db.q("effects") + " (step) VALUES ($1)", i);
    }

    /** The step's increment, and what the step saw: its output. */
    private static Mono<String> incrementAndSee(TxSession s, TestSchema db, int i) {
        return s.execute("UPDATE " + db.q("counter") + " SET n = n + 1 WHERE id = 1")
                .then(s.query("SELECT n FROM " + db.q("counter") + " WHERE id = 1", (row, meta) -> row.get(0, Integer.class))
                        .single())
                .map(n -> "step-" + i + ":n=" + n);
    }

    /** Step indexes with no effect row or more than one, with their counts. */
    private static List<String> stepsWithOtherThanOneEffect(TestSchema db, int steps) throws SQLException {
        List<String> wrong = new ArrayList<>();
        try (Connection c = TestDatabases.jdbc(db.url()); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT g.i, COUNT(e.step) FROM generate_series(0, " + (steps - 1)
                        + ") AS g(i) LEFT JOIN " + db.q("effects") + " e ON e.step = g.i GROUP BY g.i"
                        + " HAVING COUNT(e.step) <> 1 ORDER BY g.i")) {
            while (rs.next()) {
                wrong.add("step " + rs.getInt(1) + ": " + rs.getLong(2) + " effects");
            }
        }
        return wrong;
    }

    /** The recorded outputs of a workflow in step order, read with the serializer that wrote them. */
    private static List<String> recordedOutputs(TestSchema db, String workflowId) throws SQLException {
        JacksonSerializer serializer = JacksonSerializer.create();
        List<String> outputs = new ArrayList<>();
        try (Connection c = TestDatabases.jdbc(db.url()); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT step_id, output FROM " + db.outputs() + " WHERE workflow_id = '"
                        + workflowId + "' ORDER BY step_id")) {
            while (rs.next()) {
                assertEquals(outputs.size(), rs.getInt(1), "step ids are 0..n-1 without gaps");
                outputs.add(serializer.deserialize(rs.getString(2), String.class));
            }
        }
        return outputs;
    }

    private static void assertPoolDrained(AsyncDatasource ds) {
        ConnectionPool pool = (ConnectionPool) ds.connectionFactory();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (pool.getMetrics().orElseThrow().acquiredSize() != 0 && System.nanoTime() < deadline) {
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
        }
        assertTrue(pool.getMetrics().orElseThrow().acquiredSize() == 0, "every connection went back to the pool");
    }
}
