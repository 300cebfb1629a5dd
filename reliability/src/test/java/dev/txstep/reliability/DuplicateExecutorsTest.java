package dev.txstep.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.txstep.AsyncDatasource;
import dev.txstep.BlockingDatasource;
import dev.txstep.DatasourceConfig;
import dev.txstep.IsolationLevel;
import dev.txstep.testing.TestDatabases;
import dev.txstep.testing.TestSchema;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * R1, duplicate executors: several executors run the same workflow id at the same time, and every
 * step still takes effect exactly once, with every executor returning the same outputs.
 *
 * <p>The workflow ({@link DuplicateExecutorsWorkload}) has {@code n} steps; step {@code i} inserts
 * an effect row keyed by a fresh random UUID, increments a counter and returns the UUID. The
 * executors start together, so they race on every step: each loser's transaction has written its
 * own effect when its output {@code INSERT} meets the winner's row (a unique violation, or a
 * serialization failure under SERIALIZABLE when the counter row was updated by the winner); it must
 * roll back and return the winner's recorded output. Afterwards, counted in the database: exactly
 * {@code n} effect rows, one per step; counter {@code n}; {@code n} rows in
 * {@code datasource_outputs}; and every executor's list of outputs equals the committed effect
 * ids in step order (so all lists are equal, and each output is the one whose effect survived).
 *
 * <p>Executors: 8 subscriptions of {@code Workflow.run} in this JVM (PostgreSQL with a pool larger
 * and smaller than the executors, SERIALIZABLE and READ COMMITTED, and H2); 8 threads of the
 * blocking facade in {@code Workflow.runBlocking}; and separate JVM processes
 * ({@link DuplicateExecutorsMain}), released together once all have opened their datasource.
 * Short variant: 100 steps and 2 processes; long ({@code -Preliability}): 1000 steps and 4.
 */
@Timeout(value = 20, unit = TimeUnit.MINUTES)
class DuplicateExecutorsTest {

    private static final int STEPS = Scale.pick(100, 1000);
    private static final int EXECUTORS = 8;
    private static final int PROCESSES = Scale.pick(2, 4);

    private final String workflowId = "dup-" + UUID.randomUUID();
    private final List<Runnable> cleanUps = new ArrayList<>();

    @AfterEach
    void cleanUp() {
        for (int i = cleanUps.size() - 1; i >= 0; i--) {
            cleanUps.get(i).run();
        }
    }

    @ParameterizedTest(name = "{0}, pool {1}, {2}")
    @CsvSource({
            "postgresql, 16, SERIALIZABLE",   // every executor holds a connection at once
            "postgresql, 3, SERIALIZABLE",    // executors queue for connections
            "postgresql, 16, READ_COMMITTED", // no serialization failures: the primary key alone decides
            "h2, 16, SERIALIZABLE"})
    void subscriptionsInOneJvm(String database, int poolSize, IsolationLevel level) throws Exception {
        TestSchema db = schemaOn(database);
        AsyncDatasource ds = open(db, poolSize);
        DuplicateExecutorsWorkload workload = new DuplicateExecutorsWorkload(db.name(), level);

        long start = System.nanoTime();
        // Subscribed back to back: all 8 executions are under way before the first step commits.
        List<CompletableFuture<List<String>>> executors = new ArrayList<>();
        for (int e = 0; e < EXECUTORS; e++) {
            executors.add(workload.run(ds, workflowId, STEPS).toFuture());
        }
        List<List<String>> outputs = new ArrayList<>();
        for (CompletableFuture<List<String>> executor : executors) {
            outputs.add(executor.get(10, TimeUnit.MINUTES));
        }
        long millis = elapsedMillis(start);

        assertExactlyOnce(db, outputs);
        assertTrue(workload.functionRuns() > STEPS, "the executors raced: some steps' functions ran more than once"
                + " (and were rolled back); " + workload.functionRuns() + " runs for " + STEPS + " steps");
        report("in-JVM subscriptions (" + database + ", pool " + poolSize + ", " + level + ")", db, EXECUTORS,
                workload.functionRuns(), millis);
    }

    @Test
    void threadsOfTheBlockingFacade() throws Exception {
        TestSchema db = schemaOn("postgresql");
        BlockingDatasource ds = BlockingDatasource.wrap(open(db, EXECUTORS + 2));
        DuplicateExecutorsWorkload workload = new DuplicateExecutorsWorkload(db.name(), IsolationLevel.SERIALIZABLE);
        ExecutorService threads = Executors.newFixedThreadPool(EXECUTORS);
        cleanUps.add(threads::shutdownNow);

        CountDownLatch go = new CountDownLatch(1);
        List<Future<List<String>>> executors = new ArrayList<>();
        for (int e = 0; e < EXECUTORS; e++) {
            executors.add(threads.submit(() -> {
                go.await();
                return workload.runBlocking(ds, workflowId, STEPS);
            }));
        }
        long start = System.nanoTime();
        go.countDown();
        List<List<String>> outputs = new ArrayList<>();
        for (Future<List<String>> executor : executors) {
            outputs.add(executor.get(10, TimeUnit.MINUTES));
        }
        long millis = elapsedMillis(start);

        assertExactlyOnce(db, outputs);
        assertTrue(workload.functionRuns() > STEPS, "the executors raced: " + workload.functionRuns() + " runs for "
                + STEPS + " steps");
        report("blocking facade threads (postgresql, SERIALIZABLE)", db, EXECUTORS, workload.functionRuns(), millis);
    }

    @Test
    void separateProcesses(@TempDir Path dir) throws Exception {
        TestSchema db = schemaOn("postgresql");
        open(db, 2); // migrates the schema and creates the tables before any child starts
        Path go = dir.resolve("go");
        List<Process> children = new ArrayList<>();
        cleanUps.add(() -> children.forEach(Process::destroyForcibly));
        for (int p = 0; p < PROCESSES; p++) {
            children.add(ChildJvm.start(DuplicateExecutorsMain.class, log(dir, p), db.url(), db.name(), workflowId,
                    Integer.toString(STEPS), IsolationLevel.SERIALIZABLE.name(), ready(dir, p).toString(),
                    go.toString(), result(dir, p).toString()));
        }
        for (int p = 0; p < PROCESSES; p++) {
            awaitReady(dir, p, children.get(p));
        }

        long start = System.nanoTime();
        Files.createFile(go);
        List<List<String>> outputs = new ArrayList<>();
        int functionRuns = 0;
        for (int p = 0; p < PROCESSES; p++) {
            Process child = children.get(p);
            if (!child.waitFor(10, TimeUnit.MINUTES) || child.exitValue() != 0) {
                fail("executor process " + p + " did not succeed:\n" + Files.readString(log(dir, p)));
            }
            List<String> lines = Files.readAllLines(result(dir, p));
            functionRuns += Integer.parseInt(lines.get(0));
            outputs.add(lines.subList(1, lines.size()));
        }
        long millis = elapsedMillis(start);

        assertExactlyOnce(db, outputs);
        report("separate JVM processes (postgresql, SERIALIZABLE)", db, PROCESSES, functionRuns, millis);
    }

    // ---- checks ----

    private void assertExactlyOnce(TestSchema db, List<List<String>> outputs) throws SQLException {
        List<String> effects = DuplicateExecutorsWorkload.committedEffects(db);
        assertEquals(STEPS, effects.size(), "exactly one effect row per step survived");
        assertEquals(STEPS, db.count("SELECT COUNT(DISTINCT step) FROM " + db.q("effects")), "every step has its effect");
        assertEquals(STEPS, db.counter(), "the counter was incremented once per step");
        assertEquals(STEPS, db.count("SELECT COUNT(*) FROM " + db.outputs()), "one output row per step");
        assertEquals(STEPS, db.count("SELECT COUNT(*) FROM " + db.outputs() + " WHERE workflow_id = '" + workflowId
                + "' AND step_id BETWEEN 0 AND " + (STEPS - 1) + " AND error IS NULL"), "steps 0..n-1, none an error");
        for (int e = 0; e < outputs.size(); e++) {
            // Equal to the committed effects, in step order: each output is the surviving execution's UUID.
            assertEquals(effects, outputs.get(e), "executor " + e + " returned the recorded outputs");
        }
    }

    private void report(String flavour, TestSchema db, int executors, int functionRuns, long millis) {
        Report.of("R1 duplicate executors, " + flavour)
                .put("executors", executors)
                .put("steps", STEPS)
                .put("step function runs", functionRuns)
                .put("rolled-back duplicate runs", functionRuns - STEPS)
                .put("effect rows", db.count("SELECT COUNT(*) FROM " + db.q("effects")))
                .put("counter", db.counter())
                .put("output rows", db.count("SELECT COUNT(*) FROM " + db.outputs()))
                .put("executors with equal outputs", executors)
                .put("ms", millis)
                .publish();
    }

    // ---- set-up ----

    private TestSchema schemaOn(String database) {
        String url = database.equals("h2") ? TestDatabases.h2R2dbcUrl() : TestDatabases.postgresR2dbcUrl();
        TestSchema db = new TestSchema(url, TestDatabases.uniqueSchema("r1_dup"));
        cleanUps.add(() -> db.exec("DROP SCHEMA IF EXISTS \"" + db.name() + "\" CASCADE"));
        return db;
    }

    /** Opens a datasource on the schema (migrating it) and creates the workload's tables. */
    private AsyncDatasource open(TestSchema db, int poolSize) {
        AsyncDatasource ds = AsyncDatasource.create(DatasourceConfig.builder()
                        .url(db.url()).schema(db.name()).initialPoolSize(1).maxPoolSize(poolSize).build())
                .block(Duration.ofSeconds(60));
        cleanUps.add(() -> ds.close().block(Duration.ofSeconds(60)));
        DuplicateExecutorsWorkload.createTables(db);
        return ds;
    }

    private static void awaitReady(Path dir, int p, Process child) throws IOException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (!Files.exists(ready(dir, p))) {
            if (!child.isAlive() || System.nanoTime() > deadline) {
                fail("executor process " + p + " never got ready:\n" + Files.readString(log(dir, p)));
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
        }
    }

    private static Path log(Path dir, int p) {
        return dir.resolve("executor-" + p + ".log");
    }

    private static Path ready(Path dir, int p) {
        return dir.resolve("executor-" + p + ".ready");
    }

    private static Path result(Path dir, int p) {
        return dir.resolve("executor-" + p + ".result");
    }

    private static long elapsedMillis(long startNanos) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
    }
}
