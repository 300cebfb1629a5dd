package dev.txstep.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.txstep.AsyncDatasource;
import dev.txstep.DatasourceConfig;
import dev.txstep.DatasourceOptions;
import dev.txstep.IsolationLevel;
import dev.txstep.RetriesExhaustedException;
import dev.txstep.RetryPolicy;
import dev.txstep.TxSession;
import dev.txstep.reactor.Workflow;
import dev.txstep.serialization.JacksonSerializer;
import dev.txstep.testing.TestDatabases;
import dev.txstep.testing.TestSchema;
import io.r2dbc.pool.ConnectionPool;
import io.r2dbc.spi.R2dbcException;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * R3, a serialization storm: 32 concurrent SERIALIZABLE steps each read one hot row, add one to
 * the value they read and write it back. Under SERIALIZABLE all but one of a set of overlapping
 * read-modify-writes fail with SQLSTATE 40001 (or 40P01); txstep must retry those whole steps and
 * never let a conflict become a step's outcome.
 *
 * <p>Each round's first attempts meet at a start line after their read, so all 32 have read the
 * same value before any writes: every round is a full conflict, not a matter of timing. Retries
 * run freely. Proven by counting, after each run:
 * <ul>
 *   <li>every step returned a value or failed with {@link RetriesExhaustedException} caused by
 *       40001/40P01 — nothing else;</li>
 *   <li>the hot row's value equals the number of steps that returned a value, and the values
 *       returned are exactly 1..that number: no lost update, no increment by a step that failed;</li>
 *   <li>in workflows, {@code datasource_outputs} holds one row per successful step with the value
 *       it returned, no row for an exhausted step, and no row holding an error (so no 40001/40P01
 *       was ever recorded); replaying every workflow returns the recorded values and runs nothing;
 *       re-running the exhausted workflows completes them.</li>
 * </ul>
 * Three retry policies: generous (every step must succeed), txstep's default (whatever it gives
 * must satisfy the above), and none (the start line makes exhaustion certain, so the
 * exhausted path is proven, not hoped for). Retries are counted as function invocations minus
 * steps.
 */
class SerializationStormTest {

    private static final int CONCURRENT = 32;
    private static final DatasourceOptions STEP = new DatasourceOptions("read-modify-write", IsolationLevel.SERIALIZABLE);

    /** The retry policies the storm runs under. */
    enum Policy {
        /** Enough attempts for 32-way contention on one row: the test requires every step to succeed. */
        GENEROUS(RetryPolicy.defaults().withMaxAttempts(100).withBackoff(Duration.ofMillis(5), Duration.ofMillis(250))),
        /** txstep's default: 10 attempts, 10 ms up to 2 s. */
        DEFAULT(RetryPolicy.defaults()),
        /** One attempt: every conflict exhausts it. */
        NONE(RetryPolicy.none());

        final RetryPolicy retryPolicy;

        Policy(RetryPolicy retryPolicy) {
            this.retryPolicy = retryPolicy;
        }
    }

    private String url;
    private String schema;
    private AsyncDatasource ds;
    private final AtomicInteger invocations = new AtomicInteger();

    @BeforeEach
    void setUp() {
        url = TestDatabases.postgresR2dbcUrl();
        schema = TestDatabases.uniqueSchema("r3storm");
    }

    @AfterEach
    void tearDown() {
        if (ds != null) {
            ds.close().block(Duration.ofSeconds(30));
        }
        TestDatabases.exec(url, "DROP SCHEMA IF EXISTS \"" + schema + "\" CASCADE");
    }

    @ParameterizedTest(name = "outside workflows, {0} retry policy")
    @EnumSource(Policy.class)
    void outsideWorkflows(Policy policy) {
        open(policy);
        long start = System.nanoTime();
        Storm storm = storm(policy, false);
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

        storm.assertOutcomes(policy);
        long finalValue = db().counter();
        assertEquals(storm.succeeded(), finalValue, "the hot row counts exactly the steps that succeeded");
        assertPoolDrained();

        Report.of("R3 serialization storm, outside workflows, " + policy.name().toLowerCase() + " retry policy")
                .put("steps", storm.steps())
                .put("concurrent", CONCURRENT)
                .put("succeeded", storm.succeeded())
                .put("retriesExhausted", storm.exhausted())
                .put("retries", invocations.get() - storm.steps())
                .put("finalValue", finalValue)
                .put("ms", millis)
                .publish();
    }

    @ParameterizedTest(name = "in workflows, {0} retry policy")
    @EnumSource(Policy.class)
    void insideWorkflows(Policy policy) throws SQLException {
        open(policy);
        long start = System.nanoTime();
        Storm storm = storm(policy, true);
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

        storm.assertOutcomes(policy);
        long finalValue = db().counter();
        assertEquals(storm.succeeded(), finalValue, "the hot row counts exactly the steps that succeeded");
        Map<String, Integer> recorded = recordedOutputs();
        assertEquals(storm.succeeded(), recorded.size(), "one output row per successful step");
        assertEquals(0, db().count("SELECT COUNT(*) FROM " + db().outputs() + " WHERE error IS NOT NULL"),
                "no step recorded an error");
        assertEquals(0, db().count("SELECT COUNT(*) FROM " + db().outputs()
                + " WHERE error LIKE '%40001%' OR error LIKE '%40P01%'"), "no conflict recorded as an outcome");
        assertEquals(storm.values, recorded, "each successful step's row holds the value it returned");
        for (String exhausted : storm.exhaustedWorkflows) {
            assertFalse(recorded.containsKey(exhausted), "an exhausted step recorded nothing: " + exhausted);
        }

        // Replaying every successful workflow returns its recorded value and runs nothing.
        int before = invocations.get();
        for (Map.Entry<String, Integer> entry : storm.values.entrySet()) {
            assertEquals(entry.getValue(), Workflow.run(entry.getKey(), readModifyWrite(null)).block(Duration.ofSeconds(30)),
                    "replay of " + entry.getKey());
        }
        assertEquals(before, invocations.get(), "a replay runs no function");

        // The exhausted ones recorded nothing, so running them again runs them: one at a time, no conflict.
        Map<String, Integer> all = new HashMap<>(storm.values);
        for (String exhausted : storm.exhaustedWorkflows) {
            all.put(exhausted, Workflow.run(exhausted, readModifyWrite(null)).block(Duration.ofSeconds(30)));
        }
        assertEquals(storm.steps(), db().counter(), "after the re-runs every step has incremented exactly once");
        assertEquals(oneTo(storm.steps()), new TreeSet<>(all.values()), "each value was returned once");
        assertEquals(all, recordedOutputs(), "one row per step, holding the value it returned");
        assertPoolDrained();

        Report.of("R3 serialization storm, in workflows, " + policy.name().toLowerCase() + " retry policy")
                .put("steps", storm.steps())
                .put("concurrent", CONCURRENT)
                .put("succeeded", storm.succeeded())
                .put("retriesExhausted", storm.exhausted())
                .put("retries", before - storm.steps())
                .put("finalValue", finalValue)
                .put("outputRows", recorded.size())
                .put("errorRows", 0)
                .put("reRunsToComplete", storm.exhausted())
                .put("ms", millis)
                .publish();
    }

    // ---- the storm ----

    private void open(Policy policy) {
        ds = AsyncDatasource.create(DatasourceConfig.builder().url(url).schema(schema)
                        // Every step of a round holds a connection at the start line at once.
                        .initialPoolSize(CONCURRENT).maxPoolSize(CONCURRENT)
                        .retryPolicy(policy.retryPolicy)
                        .build())
                .block(Duration.ofSeconds(60));
        db().createCounter(); // the hot row: counter id 1
    }

    /** Runs the rounds; in workflows, each step is the only step of its own workflow. */
    private Storm storm(Policy policy, boolean inWorkflows) {
        Storm storm = new Storm();
        int rounds = Scale.pick(1, 20);
        for (int round = 0; round < rounds; round++) {
            StartLine startLine = new StartLine(CONCURRENT);
            List<Mono<Void>> steps = new ArrayList<>();
            for (int i = 0; i < CONCURRENT; i++) {
                String workflowId = "storm-" + round + "-" + i;
                Mono<Integer> step = readModifyWrite(startLine);
                if (inWorkflows) {
                    step = Workflow.run(workflowId, step);
                }
                steps.add(step.doOnNext(value -> storm.succeeded(workflowId, value))
                        .onErrorResume(error -> Mono.fromRunnable(() -> storm.failed(workflowId, error)))
                        .then());
            }
            Flux.merge(steps).blockLast(Duration.ofMinutes(5));
            assertTrue(startLine.metInFull(), "round " + round + ": all " + CONCURRENT
                    + " first attempts read the row before any wrote it");
            if (policy == Policy.NONE) {
                // 32 read the same value; one update wins, the others must fail their only attempt.
                assertTrue(storm.exhausted() > round, "round " + round + " exhausted a step");
            }
        }
        return storm;
    }

    /**
     * The step: read the hot row, write it back plus one, return the value written. With a start
     * line, the step's first attempt waits there after its read.
     */
    private Mono<Integer> readModifyWrite(StartLine startLine) {
        AtomicBoolean firstAttempt = new AtomicBoolean(true);
        return ds.runTxStepAsync(STEP, Integer.class, s -> {
            invocations.incrementAndGet();
            Mono<Void> wait = startLine != null && firstAttempt.getAndSet(false) ? startLine.arriveAndAwait() : Mono.empty();
            return read(s).flatMap(n -> wait.then(s.execute("UPDATE " + db().q("counter") + " SET n = $1 WHERE id = 1", n + 1))
                    .thenReturn(n + 1));
        });
    }

    private Mono<Integer> read(TxSession s) {
        return s.query("SELECT n FROM " + db().q("counter") + " WHERE id = 1", (row, meta) -> row.get(0, Integer.class))
                .single();
    }

    /**
     * Where the first attempts of a round wait for each other, each with its transaction open and
     * its read done, so that all of them conflict. Opens when the last one arrives; a step that
     * waits more than 30 s goes on and the round is reported as not met in full.
     */
    private static final class StartLine {
        private final int parties;
        private final AtomicInteger arrived = new AtomicInteger();
        private final AtomicBoolean timedOut = new AtomicBoolean();
        private final Sinks.Empty<Void> open = Sinks.empty();

        StartLine(int parties) {
            this.parties = parties;
        }

        Mono<Void> arriveAndAwait() {
            return Mono.defer(() -> {
                if (arrived.incrementAndGet() == parties) {
                    open.tryEmitEmpty();
                }
                return open.asMono().timeout(Duration.ofSeconds(30), Mono.fromRunnable(() -> timedOut.set(true)));
            });
        }

        boolean metInFull() {
            return arrived.get() == parties && !timedOut.get();
        }
    }

    /** What the steps of a storm returned, keyed by their workflow id (their name outside workflows). */
    private static final class Storm {
        final Map<String, Integer> values = new HashMap<>();
        final List<String> exhaustedWorkflows = new ArrayList<>();
        final List<String> unexpected = new ArrayList<>();

        synchronized void succeeded(String workflowId, int value) {
            values.put(workflowId, value);
        }

        synchronized void failed(String workflowId, Throwable error) {
            if (error instanceof RetriesExhaustedException && isConflict(error.getCause())) {
                exhaustedWorkflows.add(workflowId);
            } else {
                unexpected.add(workflowId + ": " + error);
            }
        }

        synchronized int succeeded() {
            return values.size();
        }

        synchronized int exhausted() {
            return exhaustedWorkflows.size();
        }

        synchronized int steps() {
            return values.size() + exhaustedWorkflows.size() + unexpected.size();
        }

        synchronized void assertOutcomes(Policy policy) {
            assertEquals(List.of(), unexpected, "every step succeeded or exhausted its retries on 40001/40P01");
            assertEquals(oneTo(values.size()), new TreeSet<>(values.values()),
                    "the successful steps returned 1..n, each once: no lost update");
            if (policy == Policy.GENEROUS) {
                assertEquals(List.of(), exhaustedWorkflows, "with enough attempts every step succeeds");
            }
        }

        private static boolean isConflict(Throwable error) {
            for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
                if (t instanceof R2dbcException r2dbc) {
                    return "40001".equals(r2dbc.getSqlState()) || "40P01".equals(r2dbc.getSqlState());
                }
            }
            return false;
        }
    }

    // ---- checks ----

    private static Set<Integer> oneTo(int n) {
        return IntStream.rangeClosed(1, n).boxed().collect(Collectors.toCollection(TreeSet::new));
    }

    /** The recorded output of every workflow, read back with the serializer that wrote it. */
    private Map<String, Integer> recordedOutputs() throws SQLException {
        JacksonSerializer serializer = JacksonSerializer.create();
        Map<String, Integer> outputs = new HashMap<>();
        try (Connection c = TestDatabases.jdbc(url); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT workflow_id, step_id, output FROM " + db().outputs())) {
            while (rs.next()) {
                assertEquals(0, rs.getInt(2), "each workflow has one step");
                outputs.put(rs.getString(1), serializer.deserialize(rs.getString(3), Integer.class));
            }
        }
        return outputs;
    }

    private void assertPoolDrained() {
        ConnectionPool pool = (ConnectionPool) ds.connectionFactory();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (pool.getMetrics().orElseThrow().acquiredSize() != 0 && System.nanoTime() < deadline) {
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
        }
        assertEquals(0, pool.getMetrics().orElseThrow().acquiredSize(), "every connection went back to the pool");
    }

    private TestSchema db() {
        return new TestSchema(url, schema);
    }
}
