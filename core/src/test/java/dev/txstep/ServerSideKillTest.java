package dev.txstep;

import static dev.txstep.testing.Workflows.inWorkflow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.txstep.testing.TestDatabases;
import dev.txstep.testing.TestSchema;
import io.r2dbc.pool.ConnectionPool;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * A step whose transaction the server kills ({@code pg_terminate_backend}) while the step's
 * function is still running: the killed attempt never commits, so it leaves neither its effects
 * nor an output row; the step is retried on a new connection and ends with exactly one effect
 * (the retry's) and one output row holding the retry's output.
 *
 * <p>Two moments of the kill: while the function waits between statements (the backend is idle
 * in transaction; the function's next statement finds the connection gone), and while a
 * statement is executing (the statement itself fails with SQLSTATE 57P01). Real PostgreSQL; the
 * kill is issued over JDBC by the test, with the pid the function read from
 * {@code pg_backend_pid()} inside its own transaction.
 */
class ServerSideKillTest {

    private String url;
    private String schema;
    private AsyncDatasource ds;

    @BeforeEach
    void setUp() {
        url = TestDatabases.postgresR2dbcUrl();
        schema = TestDatabases.uniqueSchema("kill");
        ds = AsyncDatasource.create(DatasourceConfig.builder().url(url).schema(schema).maxPoolSize(4)
                        .retryPolicy(RetryPolicy.defaults().withMaxAttempts(5)
                                .withBackoff(Duration.ofMillis(10), Duration.ofMillis(200)))
                        .build())
                .block(Duration.ofSeconds(30));
        db().createCounter();
        // One row per attempt that wrote it, tagged with the attempt: shows whose writes survived.
        db().exec("CREATE TABLE " + db().q("effects") + " (attempt int PRIMARY KEY)");
    }

    @AfterEach
    void tearDown() {
        if (ds != null) {
            ds.close().block(Duration.ofSeconds(30));
        }
        TestDatabases.exec(url, "DROP SCHEMA IF EXISTS \"" + schema + "\" CASCADE");
    }

    @Test
    void killedWhileTheFunctionWaitsBetweenStatements() throws Exception {
        String workflowId = "wf-" + UUID.randomUUID();
        AtomicInteger attempts = new AtomicInteger();
        CompletableFuture<Integer> firstPid = new CompletableFuture<>();
        CountDownLatch killed = new CountDownLatch(1);

        Mono<String> step = ds.runTxStepAsync(DatasourceOptions.named("killed-idle"), String.class, s -> {
            int attempt = attempts.incrementAndGet();
            return writeEffects(s, attempt)
                    .then(pid(s))
                    .flatMap(pid -> {
                        if (attempt > 1) {
                            return Mono.just(pid);
                        }
                        // First attempt: hand the pid to the test and wait, transaction open, until it
                        // has been killed. The wait is off the event loop.
                        firstPid.complete(pid);
                        return Mono.fromCallable(() -> killed.await(15, TimeUnit.SECONDS))
                                .subscribeOn(Schedulers.boundedElastic())
                                .thenReturn(pid);
                    })
                    // The statement after the wait: on the killed attempt it meets a dead connection.
                    .flatMap(pid -> counterIn(s).map(n -> "attempt-" + attempt + ":n=" + n));
        });

        long start = System.nanoTime();
        CompletableFuture<String> running = inWorkflow(workflowId, step).toFuture();
        int pid = firstPid.get(10, TimeUnit.SECONDS);
        assertTrue(terminate(pid), "pg_terminate_backend ended the step's backend " + pid);
        // Committed state right after the kill: the killed transaction's writes are gone, nothing recorded.
        assertEquals(0, db().counter());
        assertEquals(0, db().count("SELECT COUNT(*) FROM " + db().q("effects")));
        assertEquals(0, db().count("SELECT COUNT(*) FROM " + db().q("datasource_outputs")));
        killed.countDown();

        String result = running.get(20, TimeUnit.SECONDS);
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertOneEffectAndOneRowFromTheRetry(workflowId, "killed-idle", result, attempts);
        System.out.printf("killed idle in transaction: %d attempts, %d ms%n", attempts.get(), millis);
    }

    @Test
    void killedWhileAStatementOfTheFunctionRuns() throws Exception {
        String workflowId = "wf-" + UUID.randomUUID();
        AtomicInteger attempts = new AtomicInteger();
        CompletableFuture<Integer> firstPid = new CompletableFuture<>();
        CountDownLatch retryStarted = new CountDownLatch(1);
        CountDownLatch inspected = new CountDownLatch(1);

        Mono<String> step = ds.runTxStepAsync(DatasourceOptions.named("killed-busy"), String.class, s -> {
            int attempt = attempts.incrementAndGet();
            // The retry follows the kill at once; hold it until the test has looked at the committed
            // state, so what the test sees is what the killed attempt left behind.
            Mono<Boolean> hold = attempt == 1 ? Mono.just(true) : Mono.fromCallable(() -> {
                retryStarted.countDown();
                return inspected.await(15, TimeUnit.SECONDS);
            }).subscribeOn(Schedulers.boundedElastic());
            return hold.then(writeEffects(s, attempt))
                    .then(pid(s))
                    .flatMap(pid -> {
                        if (attempt > 1) {
                            return Mono.just(pid);
                        }
                        firstPid.complete(pid);
                        // A statement that outlasts the test: only the kill ends it.
                        return s.query("SELECT pg_sleep(30)", (row, meta) -> 0).then().thenReturn(pid);
                    })
                    .flatMap(pid -> counterIn(s).map(n -> "attempt-" + attempt + ":n=" + n));
        });

        long start = System.nanoTime();
        CompletableFuture<String> running = inWorkflow(workflowId, step).toFuture();
        int pid = firstPid.get(10, TimeUnit.SECONDS);
        // Kill it only once pg_sleep is really executing on that backend (bounded poll of the server's view).
        awaitSleeping(pid);
        assertTrue(terminate(pid), "pg_terminate_backend ended the step's backend " + pid);
        assertTrue(retryStarted.await(10, TimeUnit.SECONDS), "the step was retried after the kill");
        assertEquals(0, db().counter(), "the killed attempt's increment was rolled back");
        assertEquals(0, db().count("SELECT COUNT(*) FROM " + db().q("effects")), "and its effect row");
        assertEquals(0, db().count("SELECT COUNT(*) FROM " + db().q("datasource_outputs")), "and nothing was recorded");
        inspected.countDown();

        String result = running.get(20, TimeUnit.SECONDS);
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertOneEffectAndOneRowFromTheRetry(workflowId, "killed-busy", result, attempts);
        System.out.printf("killed mid-statement: %d attempts, %d ms%n", attempts.get(), millis);
    }

    // ---- helpers ----

    private void assertOneEffectAndOneRowFromTheRetry(String workflowId, String stepName, String result,
            AtomicInteger attempts)
            throws SQLException {
        assertEquals(2, attempts.get(), "the killed attempt was retried once");
        assertEquals("attempt-2:n=1", result, "the step returned the retry's output");
        assertEquals(1, db().counter(), "exactly one increment survived");
        assertEquals(1, db().count("SELECT COUNT(*) FROM " + db().q("effects")), "exactly one effect row");
        assertEquals(0, db().count("SELECT COUNT(*) FROM " + db().q("effects") + " WHERE attempt = 1"),
                "none from the killed attempt");
        assertEquals(1, db().count("SELECT COUNT(*) FROM " + db().q("datasource_outputs")), "exactly one output row");
        String recorded = textFor("SELECT output FROM " + db().q("datasource_outputs")
                + " WHERE workflow_id = ? AND step_id = 0 AND error IS NULL", workflowId);
        assertTrue(recorded.contains("attempt-2:n=1"), "the row holds the retry's output: " + recorded);
        // A replay returns the recorded output and runs nothing.
        assertEquals(result, inWorkflow(workflowId, ds.runTxStepAsync(
                DatasourceOptions.named(stepName), String.class,
                s -> Mono.error(new AssertionError("a recorded step must not run")))).block(Duration.ofSeconds(10)));
        assertEquals(1, db().counter());
        ConnectionPool pool = (ConnectionPool) ds.connectionFactory();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (pool.getMetrics().orElseThrow().acquiredSize() != 0 && System.nanoTime() < deadline) {
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
        }
        assertEquals(0, pool.getMetrics().orElseThrow().acquiredSize(), "every connection went back to the pool");
    }

    private Mono<Long> writeEffects(TxSession s, int attempt) {
        return s.execute("INSERT INTO " + db().q("effects") + " VALUES ($1)", attempt)
                .then(s.execute("UPDATE " + db().q("counter") + " SET n = n + 1 WHERE id = 1"));
    }

    private static Mono<Integer> pid(TxSession s) {
        return s.query("SELECT pg_backend_pid()", (row, meta) -> row.get(0, Integer.class)).single();
    }

    private Mono<Integer> counterIn(TxSession s) {
        return s.query("SELECT n FROM " + db().q("counter") + " WHERE id = 1", (row, meta) -> row.get(0, Integer.class))
                .single();
    }

    /** Terminates a backend and waits (up to 5 s, PostgreSQL 14+) until it has exited. */
    private boolean terminate(int pid) throws SQLException {
        try (Connection c = TestDatabases.jdbc(url);
                PreparedStatement ps = c.prepareStatement("SELECT pg_terminate_backend(?, 5000)")) {
            ps.setInt(1, pid);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        }
    }

    private void awaitSleeping(int pid) throws SQLException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        try (Connection c = TestDatabases.jdbc(url);
                PreparedStatement ps = c.prepareStatement("SELECT COUNT(*) FROM pg_stat_activity WHERE pid = ?"
                        + " AND state = 'active' AND wait_event = 'PgSleep'")) {
            ps.setInt(1, pid);
            while (true) {
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    if (rs.getLong(1) == 1) {
                        return;
                    }
                }
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("backend " + pid + " never started pg_sleep");
                }
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
            }
        }
    }





    private String textFor(String sql, String param) throws SQLException {
        try (Connection c = TestDatabases.jdbc(url); PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, param);
            try (ResultSet rs = ps.executeQuery()) {
                assertTrue(rs.next(), "no row: " + sql);
                return rs.getString(1);
            }
        }
    }

    /** This test's schema, for JDBC checks. */
    private TestSchema db() {
        return new TestSchema(url, schema);
    }
}
