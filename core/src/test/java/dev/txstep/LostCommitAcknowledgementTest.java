package dev.txstep;

import static dev.txstep.testing.Workflows.inWorkflow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.txstep.spi.JdbcCoordinates;
import dev.txstep.testing.CommitDroppingProxy;
import dev.txstep.testing.SqlStates;
import dev.txstep.testing.TestDatabases;
import dev.txstep.testing.TestSchema;
import io.r2dbc.pool.ConnectionPool;
import io.r2dbc.spi.ConnectionFactoryOptions;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

/**
 * A commit whose acknowledgement is lost: PostgreSQL commits the step's transaction, but the
 * connection breaks before the client reads {@code CommandComplete(COMMIT)} (a
 * {@link CommitDroppingProxy} between the pool and the server drops it). The client cannot tell a
 * committed transaction from a rolled-back one; the recorded output row can.
 *
 * <p>Proves, by counting rows, that in a workflow the step's retry finds the row its own "failed"
 * attempt committed and returns that attempt's output: the function ran once, its effect happened
 * once, there is one output row, and every connection went back to the pool. Also documents what a
 * plain transaction (outside a workflow) does in the same situation, where nothing can tell.
 *
 * <p>Real PostgreSQL; the step's connections go through the proxy, migrations and the test's own
 * JDBC assertions go to the server directly.
 */
class LostCommitAcknowledgementTest {

    private String directUrl;
    private String schema;
    private CommitDroppingProxy proxy;
    private AsyncDatasource ds;
    private String proxiedUrl;

    @BeforeEach
    void setUp() throws Exception {
        directUrl = TestDatabases.postgresR2dbcUrl();
        ConnectionFactoryOptions direct = ConnectionFactoryOptions.parse(directUrl);
        String host = String.valueOf(direct.getValue(ConnectionFactoryOptions.HOST));
        Object port = direct.getValue(ConnectionFactoryOptions.PORT);
        proxy = CommitDroppingProxy.start(host, port == null ? 5432 : Integer.parseInt(port.toString()));
        // The same database, user and password as the direct URL; only host and port point at the proxy.
        JdbcCoordinates jdbc = JdbcCoordinates.derivedFrom(directUrl);
        proxiedUrl = "r2dbc:postgresql://" + userInfo(jdbc) + "127.0.0.1:" + proxy.port() + "/"
                + direct.getValue(ConnectionFactoryOptions.DATABASE);
        schema = TestDatabases.uniqueSchema("lostack");
        ds = AsyncDatasource.create(DatasourceConfig.builder()
                        .url(proxiedUrl)
                        // Migrations go straight to the server: the proxy is only in the steps' path.
                        .jdbcUrl(TestDatabases.postgresJdbcUrl())
                        .jdbcCredentials(jdbc.user(), jdbc.password())
                        .schema(schema)
                        .maxPoolSize(4)
                        // Fast, bounded retries: the test is about what a retry finds, not about waiting.
                        .retryPolicy(RetryPolicy.defaults().withMaxAttempts(5)
                                .withBackoff(Duration.ofMillis(10), Duration.ofMillis(200)))
                        .build())
                .block(Duration.ofSeconds(30));
        db().createCounter();
    }

    @AfterEach
    void tearDown() {
        if (ds != null) {
            ds.close().block(Duration.ofSeconds(30));
        }
        if (proxy != null) {
            proxy.close();
        }
        TestDatabases.exec(directUrl, "DROP SCHEMA IF EXISTS \"" + schema + "\" CASCADE");
    }

    @Test
    void inAWorkflowTheRetryReturnsWhatTheUnacknowledgedCommitRecorded() throws Exception {
        String workflowId = "wf-" + UUID.randomUUID();
        AtomicInteger invocations = new AtomicInteger();
        List<String> produced = new CopyOnWriteArrayList<>();
        Mono<String> step = ds.runTxStepAsync(DatasourceOptions.named("bump"), String.class,
                s -> s.execute("UPDATE " + db().q("counter") + " SET n = n + 1 WHERE id = 1")
                        .then(Mono.fromCallable(() -> {
                            // A value only this invocation can produce, to tell whose output comes back.
                            String value = "invocation-" + invocations.incrementAndGet() + "-" + UUID.randomUUID();
                            produced.add(value);
                            return value;
                        })));

        proxy.arm();
        long start = System.nanoTime();
        String result = inWorkflow(workflowId, step).block(Duration.ofSeconds(20));
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

        assertEquals(1, proxy.droppedCommits(), "the acknowledgement of the step's COMMIT was dropped");
        assertFalse(proxy.isArmed());
        assertEquals(1, invocations.get(), "the function ran exactly once: the retry found the recorded row");
        assertEquals(produced.get(0), result, "the step returned what its first, unacknowledged attempt produced");
        assertEquals(1, db().counter(), "the effect happened exactly once (the server did commit the first attempt)");
        assertEquals(1, outputRows(workflowId), "one output row for the key");
        assertEquals(1, db().count("SELECT COUNT(*) FROM " + db().q("datasource_outputs")), "and no other row");
        assertEquals("bump", text("SELECT step_name FROM " + db().q("datasource_outputs")
                + " WHERE workflow_id = ? AND step_id = 0", workflowId));
        String recorded = text("SELECT output FROM " + db().q("datasource_outputs")
                + " WHERE workflow_id = ? AND step_id = 0", workflowId);
        assertTrue(recorded.contains(produced.get(0)), "the row holds the first attempt's output: " + recorded);
        assertPoolDrained();

        // Replaying the workflow reads the same row and still runs nothing.
        assertEquals(result, inWorkflow(workflowId, step).block(Duration.ofSeconds(10)));
        assertEquals(1, invocations.get());
        assertEquals(1, db().counter());
        assertEquals(1, outputRows(workflowId));
        assertPoolDrained();
        System.out.printf("lost COMMIT ack in a workflow: recovered in %d ms, %d proxy connections opened%n",
                millis, proxy.acceptedConnections());
    }

    @Test
    void withoutRetriesTheCallerSeesAFailureButAReplayReturnsTheCommittedOutput() throws Exception {
        String workflowId = "wf-" + UUID.randomUUID();
        AtomicInteger invocations = new AtomicInteger();
        List<String> produced = new CopyOnWriteArrayList<>();
        AsyncDatasource noRetry = AsyncDatasource.create(DatasourceConfig.builder().url(proxiedUrl)
                        .migrate(false).schema(schema).maxPoolSize(2).retryPolicy(RetryPolicy.none()).build())
                .block(Duration.ofSeconds(30));
        try {
            Function<AsyncDatasource, Mono<String>> step = on -> on.runTxStepAsync(
                    DatasourceOptions.named("bump"), String.class,
                    s -> s.execute("UPDATE " + db().q("counter") + " SET n = n + 1 WHERE id = 1")
                            .then(Mono.fromCallable(() -> {
                                String value = "invocation-" + invocations.incrementAndGet() + "-" + UUID.randomUUID();
                                produced.add(value);
                                return value;
                            })));
            proxy.arm();
            // With no retry the caller cannot tell what happened: it gets the connection loss...
            RetriesExhaustedException e = assertThrows(RetriesExhaustedException.class,
                    () -> inWorkflow(workflowId, step.apply(noRetry)).block(Duration.ofSeconds(20)));
            assertEquals(1, proxy.droppedCommits());
            assertEquals("08006", SqlStates.sqlState(e), "the cause is the lost connection");
            // ...but the server committed the step, output row included.
            assertEquals(1, db().counter());
            assertEquals(1, outputRows(workflowId));
            // Re-running the workflow (the caller's own retry) returns the committed output, runs nothing.
            assertEquals(produced.get(0), inWorkflow(workflowId, step.apply(ds)).block(Duration.ofSeconds(10)));
            assertEquals(1, invocations.get());
            assertEquals(1, db().counter());
            assertEquals(1, outputRows(workflowId));
            assertPoolDrained(noRetry);
        } finally {
            noRetry.close().block(Duration.ofSeconds(30));
        }
        assertPoolDrained(ds);
    }

    /**
     * Outside a workflow nothing is recorded, so nothing can tell whether the lost COMMIT took
     * effect: a retry could apply the transaction twice. So the step is not retried; it fails with a
     * {@link DatasourceException} saying the outcome is unknown, and the effect (which did commit
     * here) exists once. It is the ambiguity the recorded output exists to resolve: run the step in a
     * workflow when this matters.
     */
    @Test
    void outsideAWorkflowALostCommitIsReportedAsUnknownAndNotRetried() throws Exception {
        AtomicInteger invocations = new AtomicInteger();
        Mono<String> step = ds.runTxStepAsync(DatasourceOptions.named("plain-bump"), String.class,
                s -> s.execute("UPDATE " + db().q("counter") + " SET n = n + 1 WHERE id = 1")
                        .then(Mono.fromCallable(() -> "invocation-" + invocations.incrementAndGet())));

        proxy.arm();
        DatasourceException error = assertThrows(DatasourceException.class, () -> step.block(Duration.ofSeconds(20)));

        assertEquals(1, proxy.droppedCommits());
        // With nothing recorded, a retry could apply the transaction twice: the loss during COMMIT is
        // reported as an unknown outcome instead, and the function ran once.
        assertTrue(error.getMessage().contains("whether it committed is unknown"), error.getMessage());
        assertEquals(DatasourceException.class, error.getClass(), "not retried, so not RetriesExhaustedException");
        assertEquals(1, invocations.get(), "the function was not run again");
        assertEquals(1, db().counter(), "the server committed the one invocation");
        assertEquals(0, db().count("SELECT COUNT(*) FROM " + db().q("datasource_outputs")), "nothing recorded outside a workflow");
        assertPoolDrained();
    }

    // ---- helpers ----

    private static String userInfo(JdbcCoordinates jdbc) {
        if (jdbc.user() == null) {
            return "";
        }
        return jdbc.user() + (jdbc.password() == null ? "" : ":" + jdbc.password()) + "@";
    }

    private void assertPoolDrained() {
        assertPoolDrained(ds);
    }

    private static void assertPoolDrained(AsyncDatasource ds) {
        ConnectionPool pool = (ConnectionPool) ds.connectionFactory();
        // Releasing is asynchronous with respect to block() returning on some paths: wait, bounded.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (pool.getMetrics().orElseThrow().acquiredSize() != 0 && System.nanoTime() < deadline) {
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
        }
        assertEquals(0, pool.getMetrics().orElseThrow().acquiredSize(), "every connection went back to the pool");
    }





    private long outputRows(String workflowId) throws SQLException {
        try (Connection c = TestDatabases.jdbc(directUrl);
                PreparedStatement ps = c.prepareStatement("SELECT COUNT(*) FROM " + db().q("datasource_outputs")
                        + " WHERE workflow_id = ? AND step_id = 0")) {
            ps.setString(1, workflowId);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    private String text(String sql, String param) throws SQLException {
        try (Connection c = TestDatabases.jdbc(directUrl); PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, param);
            try (ResultSet rs = ps.executeQuery()) {
                assertTrue(rs.next(), "no row: " + sql);
                String value = rs.getString(1);
                assertNotNull(value);
                return value;
            }
        }
    }

    /** This test's schema, for JDBC checks. */
    private TestSchema db() {
        return new TestSchema(directUrl, schema);
    }
}
