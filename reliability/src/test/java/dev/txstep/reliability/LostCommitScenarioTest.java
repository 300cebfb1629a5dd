package dev.txstep.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.txstep.AsyncDatasource;
import dev.txstep.DatasourceConfig;
import dev.txstep.DatasourceException;
import dev.txstep.DatasourceOptions;
import dev.txstep.IsolationLevel;
import dev.txstep.RetryPolicy;
import dev.txstep.TxSession;
import dev.txstep.reactor.Workflow;
import dev.txstep.spi.JdbcCoordinates;
import dev.txstep.testing.CommitDroppingProxy;
import dev.txstep.testing.TestDatabases;
import dev.txstep.testing.TestSchema;
import io.r2dbc.pool.ConnectionPool;
import io.r2dbc.spi.ConnectionFactoryOptions;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import reactor.core.publisher.Mono;

/**
 * Lost commit acknowledgement, repeated: PostgreSQL commits a step's transaction and the
 * connection breaks before the client reads the {@code COMMIT}'s reply. A
 * {@link CommitDroppingProxy} between the datasource's pool and the server cuts the connection on
 * that reply, once per run.
 *
 * <p>In a workflow (short: 10 runs, long: 100, each a new random workflow id) the step's retry must
 * find the row its "failed" attempt committed and return that attempt's own output. Each run is a
 * two-step workflow; the acknowledgement lost is that of step 0 (the execution's first step, which
 * loads the recorded ids) or of step 1 (a later step) in turn, at each isolation level in turn.
 * Counted per run: the proxy dropped one acknowledgement; the function ran once; the output is the
 * one that function call produced; one effect row (the effects table has no key, so a second run of
 * the function would show as a second row); one output row per step; every connection back in the
 * pool.
 *
 * <p>Outside a workflow (short: 3 runs, long: 10) nothing can tell whether the commit happened, so
 * txstep does not retry: the caller gets a plain {@link DatasourceException} saying that the outcome
 * is unknown, and the effect exists exactly once (the server did commit) — never twice.
 */
class LostCommitScenarioTest {

    private static final int WORKFLOW_RUNS = Scale.pick(10, 100);
    private static final int PLAIN_RUNS = Scale.pick(3, 10);
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final List<IsolationLevel> LEVELS = List.of(IsolationLevel.SERIALIZABLE,
            IsolationLevel.REPEATABLE_READ, IsolationLevel.READ_COMMITTED);

    private final String directUrl = TestDatabases.postgresR2dbcUrl();
    private TestSchema db;
    private CommitDroppingProxy proxy;
    private AsyncDatasource ds;

    @BeforeEach
    void setUp() throws Exception {
        ConnectionFactoryOptions direct = ConnectionFactoryOptions.parse(directUrl);
        Object port = direct.getValue(ConnectionFactoryOptions.PORT);
        proxy = CommitDroppingProxy.start(String.valueOf(direct.getValue(ConnectionFactoryOptions.HOST)),
                port == null ? 5432 : Integer.parseInt(port.toString()));
        JdbcCoordinates jdbc = JdbcCoordinates.derivedFrom(directUrl);
        String credentials = jdbc.user() == null ? ""
                : jdbc.user() + (jdbc.password() == null ? "" : ":" + jdbc.password()) + "@";
        String proxiedUrl = "r2dbc:postgresql://" + credentials + "127.0.0.1:" + proxy.port() + "/"
                + direct.getValue(ConnectionFactoryOptions.DATABASE);
        db = new TestSchema(directUrl, TestDatabases.uniqueSchema("lostcommit"));
        ds = AsyncDatasource.create(DatasourceConfig.builder()
                        .url(proxiedUrl)
                        // The migration goes straight to the server: only the steps' connections pass the proxy.
                        .jdbcUrl(TestDatabases.postgresJdbcUrl())
                        .jdbcCredentials(jdbc.user(), jdbc.password())
                        .schema(db.name())
                        .maxPoolSize(4)
                        .retryPolicy(RetryPolicy.defaults().withMaxAttempts(5)
                                .withBackoff(Duration.ofMillis(10), Duration.ofMillis(200)))
                        .build())
                .block(WAIT);
        // No key: a function that ran twice would leave two rows.
        db.exec("CREATE TABLE " + db.q("effects") + " (run text NOT NULL, step int NOT NULL)");
    }

    @AfterEach
    void tearDown() {
        if (ds != null) {
            ds.close().block(WAIT);
        }
        if (proxy != null) {
            proxy.close();
        }
        db.exec("DROP SCHEMA IF EXISTS \"" + db.name() + "\" CASCADE");
    }

    @Test
    @Timeout(value = 10, unit = TimeUnit.MINUTES)
    void aLostCommitAcknowledgementIsResolvedByTheRecordedRow() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        long start = System.nanoTime();
        for (int run = 0; run < WORKFLOW_RUNS; run++) {
            String workflowId = "lost-" + UUID.randomUUID();
            int lostStep = run % 2;
            IsolationLevel level = LEVELS.get((run / 2) % LEVELS.size());
            int droppedBefore = proxy.droppedCommits();
            int callsBefore = calls.get();
            // Each call of a step function produces a value no other call can, to tell whose output comes back.
            String[] produced = new String[2];
            List<Mono<String>> steps = new ArrayList<>();
            for (int step = 0; step < 2; step++) {
                int id = step;
                steps.add(ds.runTxStepAsync(new DatasourceOptions("step-" + id, level), String.class,
                        session -> insertEffect(session, workflowId, id).then(Mono.fromCallable(() -> {
                            calls.incrementAndGet();
                            produced[id] = "call-" + UUID.randomUUID();
                            if (id == lostStep) {
                                proxy.arm(); // the next COMMIT acknowledgement, this step's, is lost
                            }
                            return produced[id];
                        }))));
            }
            Mono<List<String>> body = steps.get(0).flatMap(first -> steps.get(1).map(second -> List.of(first, second)));

            List<String> outputs = Workflow.run(workflowId, body).block(WAIT);

            String where = "run " + run + " (lost step " + lostStep + ", " + level + ")";
            assertEquals(droppedBefore + 1, proxy.droppedCommits(), where + ": the acknowledgement was dropped");
            assertFalse(proxy.isArmed(), where);
            assertEquals(callsBefore + 2, calls.get(), where + ": each step function ran once");
            assertEquals(List.of(produced[0], produced[1]), outputs,
                    where + ": each step returned what its one call produced, the lost one included");
            for (int step = 0; step < 2; step++) {
                assertEquals(1, count("SELECT COUNT(*) FROM " + db.q("effects") + " WHERE run = ? AND step = " + step,
                        workflowId), where + ": one effect row for step " + step);
                assertEquals(1, count("SELECT COUNT(*) FROM " + db.outputs() + " WHERE workflow_id = ? AND step_id = "
                        + step + " AND output LIKE '%" + produced[step] + "%'", workflowId),
                        where + ": one output row for step " + step + ", holding its call's output");
            }
            assertEquals(2, count("SELECT COUNT(*) FROM " + db.outputs() + " WHERE workflow_id = ?", workflowId), where);
            assertPoolDrained(where);
        }
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        // The totals over all runs, from the database.
        assertEquals(2L * WORKFLOW_RUNS, db.count("SELECT COUNT(*) FROM " + db.q("effects")));
        assertEquals(2L * WORKFLOW_RUNS, db.count("SELECT COUNT(*) FROM " + db.outputs()));
        assertEquals(WORKFLOW_RUNS, proxy.droppedCommits());
        Report.of("Lost commit acknowledgement, in a workflow")
                .put("runs", WORKFLOW_RUNS)
                .put("acknowledgementsDropped", proxy.droppedCommits())
                .put("recoveredWithOwnOutput", WORKFLOW_RUNS)
                .put("functionCalls", calls.get())
                .put("effectRows", 2 * WORKFLOW_RUNS)
                .put("outputRows", 2 * WORKFLOW_RUNS)
                .put("proxyConnections", proxy.acceptedConnections())
                .put("ms", millis)
                .publish();
    }

    @Test
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    void outsideAWorkflowALostCommitIsReportedAsUnknownAndHappensOnce() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        for (int run = 0; run < PLAIN_RUNS; run++) {
            String runId = "plain-" + UUID.randomUUID();
            IsolationLevel level = LEVELS.get(run % LEVELS.size());
            int droppedBefore = proxy.droppedCommits();
            int callsBefore = calls.get();
            Mono<String> step = ds.runTxStepAsync(new DatasourceOptions("plain", level), String.class,
                    session -> insertEffect(session, runId, 0).then(Mono.fromCallable(() -> {
                        calls.incrementAndGet();
                        proxy.arm();
                        return "plain";
                    })));

            DatasourceException error = assertThrows(DatasourceException.class, () -> step.block(WAIT));

            String where = "run " + run + " (" + level + ")";
            assertEquals(droppedBefore + 1, proxy.droppedCommits(), where + ": the acknowledgement was dropped");
            // Not RetriesExhaustedException: the step was not retried, since a retry could apply it twice.
            assertEquals(DatasourceException.class, error.getClass(), where + ": " + error);
            assertTrue(error.getMessage().contains("whether it committed is unknown"), where + ": " + error.getMessage());
            assertEquals(callsBefore + 1, calls.get(), where + ": the function ran once");
            assertEquals(1, count("SELECT COUNT(*) FROM " + db.q("effects") + " WHERE run = ?", runId),
                    where + ": the effect exists exactly once (the server committed it)");
            assertPoolDrained(where);
        }
        assertEquals(PLAIN_RUNS, db.count("SELECT COUNT(*) FROM " + db.q("effects")));
        assertEquals(0, db.count("SELECT COUNT(*) FROM " + db.outputs()), "nothing is recorded outside a workflow");
        Report.of("Lost commit acknowledgement, outside a workflow")
                .put("runs", PLAIN_RUNS)
                .put("acknowledgementsDropped", proxy.droppedCommits())
                .put("reportedAsUnknownOutcome", PLAIN_RUNS)
                .put("functionCalls", calls.get())
                .put("effectRows", PLAIN_RUNS)
                .put("outputRows", 0)
                .publish();
    }

    // ---- helpers ----

    private Mono<Long> insertEffect(TxSession session, String run, int step) {
        return session.execute("INSERT INTO " + db.q("effects") + " (run, step) VALUES ($1, $2)", run, step);
    }

    private void assertPoolDrained(String where) {
        ConnectionPool pool = (ConnectionPool) ds.connectionFactory();
        // A connection is released asynchronously after block() returns on some paths: wait, bounded.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (pool.getMetrics().orElseThrow().acquiredSize() != 0 && System.nanoTime() < deadline) {
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
        }
        assertEquals(0, pool.getMetrics().orElseThrow().acquiredSize(), where + ": every connection went back to the pool");
    }

    private long count(String sql, String param) throws SQLException {
        try (Connection c = TestDatabases.jdbc(directUrl); PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, param);
            try (ResultSet rs = ps.executeQuery()) {
                assertTrue(rs.next());
                return rs.getLong(1);
            }
        }
    }
}
