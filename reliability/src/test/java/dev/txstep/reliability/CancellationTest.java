package dev.txstep.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.txstep.AsyncDatasource;
import dev.txstep.DatasourceConfig;
import dev.txstep.DatasourceOptions;
import dev.txstep.reactor.Workflow;
import dev.txstep.testing.TestDatabases;
import dev.txstep.testing.TestSchema;
import io.r2dbc.pool.ConnectionPool;
import io.r2dbc.pool.PoolMetrics;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import reactor.core.Disposable;
import reactor.core.Disposables;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * R5, cancellation: many steps, each the only step of its own workflow, are subscribed and then
 * disposed at a random point of their life: at once (while the connection is acquired or
 * {@code BEGIN} is on its way), in the middle of the function (its insert, or a short pause after
 * it), as the function hands its value over (the output {@code INSERT} and {@code COMMIT} on their
 * way), or after a random delay that may fall anywhere. Sixteen run at once on a pool of eight,
 * so some are cancelled while they wait for a connection.
 *
 * <p>Proven by counting, once the pool reports no connection acquired (release after a cancel is
 * asynchronous, so the test waits for it, with a deadline): every cancelled step either committed
 * its effect row together with its output row or neither — for every workflow id, an effect row
 * exists exactly when an output row does, and never twice; every step that returned committed; no
 * error was recorded; on PostgreSQL no connection of the pool sits idle in a transaction. Then
 * every workflow is run again without cancelling: the committed ones replay without running, the
 * others run, and every id ends with one effect and one output row. On PostgreSQL and on H2.
 */
class CancellationTest {

    private static final int IN_FLIGHT = 16;
    private static final int POOL = 8;

    /** Where a step is cancelled. */
    enum CancelPoint {
        /** Disposed right after subscribing: while the connection is acquired or the transaction begins. */
        AT_ONCE,
        /** Disposed during the function: its insert or the pause after it. */
        IN_FUNCTION,
        /** Disposed within 1.5 ms of the function emitting its value: output INSERT and COMMIT in flight, or done. */
        AT_COMMIT,
        /**
         * Disposed 0.1–200 ms after subscribing, log-uniformly (as many below 1 ms as between 20 and 200):
         * anywhere, including after the step completed, however fast the machine is today.
         */
        ANYWHERE
    }

    /** The databases the scenario runs on. */
    enum Database { POSTGRESQL, H2 }

    private TestSchema db;
    private AsyncDatasource ds;

    @AfterEach
    void tearDown() {
        if (ds != null) {
            ds.close().block(Duration.ofSeconds(30));
        }
        if (db != null) {
            db.exec("DROP SCHEMA IF EXISTS \"" + db.name() + "\" CASCADE");
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Database.class)
    void aCancelledStepCommitsItsEffectWithItsOutputOrNeither(Database database) throws Exception {
        int steps = Scale.pick(200, 1000);
        String schema = TestDatabases.uniqueSchema("r5cancel");
        // On PostgreSQL the pool's sessions carry a name of their own, to find them in pg_stat_activity.
        String applicationName = schema;
        String checksUrl = database == Database.POSTGRESQL ? TestDatabases.postgresR2dbcUrl() : TestDatabases.h2R2dbcUrl();
        String url = database == Database.POSTGRESQL ? checksUrl + (checksUrl.contains("?") ? "&" : "?")
                + "applicationName=" + applicationName : checksUrl;
        db = new TestSchema(checksUrl, schema);
        ds = AsyncDatasource.create(DatasourceConfig.builder().url(url).schema(schema).maxPoolSize(POOL).build())
                .block(Duration.ofSeconds(60));
        // No unique constraint: an effect committed twice would leave two rows.
        db.exec("CREATE TABLE " + db.q("effects") + " (k VARCHAR(64) NOT NULL)");

        String prefix = "cancel-" + UUID.randomUUID() + "-";
        List<Probe> probes = new ArrayList<>();
        for (int i = 0; i < steps; i++) {
            probes.add(new Probe(prefix + i, CancelPoint.values()[i % CancelPoint.values().length]));
        }
        long start = System.nanoTime();
        Flux.fromIterable(probes).flatMap(this::runAndCancel, IN_FLIGHT).blockLast(Duration.ofMinutes(10));
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

        PoolMetrics metrics = awaitPoolDrained();
        assertEquals(0, metrics.acquiredSize(), "every connection went back to the pool after the cancellations");
        assertEquals(0, metrics.pendingAcquireSize(), "and no acquisition is left waiting");
        if (database == Database.POSTGRESQL) {
            assertEquals(0, idleInTransaction(applicationName), "no pooled session was left inside a transaction");
        }

        List<String> errors = probes.stream().filter(p -> p.error != null).map(p -> p.key + ": " + p.error).toList();
        assertEquals(List.of(), errors, "no step failed: each returned or was cancelled");
        Map<String, Integer> effects = effectsPerKey();
        Set<String> outputs = recordedKeys();
        List<String> unpaired = new ArrayList<>();
        for (Probe p : probes) {
            int effectRows = effects.getOrDefault(p.key, 0);
            if (effectRows > 1 || (effectRows == 1) != outputs.contains(p.key)) {
                unpaired.add(p.key + " (" + p.point + "): " + effectRows + " effect rows, output row "
                        + (outputs.contains(p.key) ? "present" : "absent"));
            }
        }
        assertEquals(List.of(), unpaired, "each step committed its effect together with its output, or neither");
        Set<String> keys = probes.stream().map(p -> p.key).collect(Collectors.toSet());
        assertTrue(keys.containsAll(effects.keySet()) && keys.containsAll(outputs), "no row of a key that is not a step");
        List<String> returnedButLost = probes.stream().filter(p -> p.returned && !outputs.contains(p.key))
                .map(p -> p.key).toList();
        assertEquals(List.of(), returnedButLost, "every step that returned its value committed");
        assertEquals(0, db.count("SELECT COUNT(*) FROM " + db.outputs() + " WHERE error IS NOT NULL"),
                "a cancellation is never recorded as an error");
        Map<CancelPoint, String> byPoint = tally(probes, outputs);

        // Run every workflow again, uncancelled: the committed steps replay, the others run once.
        AtomicInteger reRuns = new AtomicInteger();
        Flux.fromIterable(probes).flatMap(p -> Workflow.run(p.key, step(p, reRuns)), IN_FLIGHT)
                .blockLast(Duration.ofMinutes(10));
        long notCommitted = probes.stream().filter(p -> !outputs.contains(p.key)).count();
        assertEquals(notCommitted, reRuns.get(), "only the steps that had not committed ran again");
        assertEquals(steps, db.count("SELECT COUNT(*) FROM " + db.q("effects")), "one effect per step in the end");
        assertEquals(steps, db.count("SELECT COUNT(DISTINCT k) FROM " + db.q("effects")));
        assertEquals(steps, db.count("SELECT COUNT(*) FROM " + db.outputs()), "one output row per step in the end");
        assertEquals(0, awaitPoolDrained().acquiredSize());

        Report report = Report.of("R5 cancellation, " + database.name().toLowerCase())
                .put("steps", steps)
                .put("cancelled", probes.stream().filter(p -> p.cancelled).count())
                .put("returnedBeforeCancel", probes.stream().filter(p -> p.returned).count())
                .put("committed", outputs.size())
                .put("notCommitted", notCommitted)
                .put("cancelledButCommitted", probes.stream().filter(p -> p.cancelled && outputs.contains(p.key)).count())
                .put("unpaired", 0)
                .put("acquiredAfter", 0);
        byPoint.forEach((point, figures) -> report.put(point.name(), figures));
        report.put("ms", millis).publish();
    }

    /**
     * Subscribes to a step's workflow and disposes of the subscription at the step's cancel point.
     * Completes when the step has returned, failed or been cancelled.
     */
    private Mono<Void> runAndCancel(Probe probe) {
        Mono<String> workflow = Workflow.run(probe.key, step(probe, null));
        return Mono.create(sink -> {
            Disposable.Swap subscription = Disposables.swap();
            probe.cancel = () -> {
                subscription.dispose();
                synchronized (probe) {
                    probe.cancelled = !probe.returned && probe.error == null;
                }
                sink.success();
            };
            subscription.update(workflow.subscribe(value -> {
                synchronized (probe) {
                    probe.returned = !probe.cancelled;
                }
                sink.success();
            }, error -> {
                probe.error = error;
                sink.success();
            }));
            switch (probe.point) {
                case AT_ONCE -> probe.cancel.run();
                case ANYWHERE -> cancelLater(probe, (long) Math.exp(ThreadLocalRandom.current()
                        .nextDouble(Math.log(100), Math.log(200_000))));
                default -> { } // the step's function sets these off
            }
        });
    }

    /**
     * The step: insert the effect row, pause 0.5–3 ms, return the key. For the cancel points inside
     * the step, the function arms the cancel. {@code reRuns}, when given, counts invocations.
     */
    private Mono<String> step(Probe probe, AtomicInteger reRuns) {
        return ds.runTxStepAsync(DatasourceOptions.named("effect"), String.class, s -> {
            if (reRuns != null) {
                reRuns.incrementAndGet();
            } else {
                probe.functionRan = true;
            }
            long pauseMicros = ThreadLocalRandom.current().nextLong(500, 3_000);
            boolean cancelling = reRuns == null;
            if (cancelling && probe.point == CancelPoint.IN_FUNCTION) {
                cancelLater(probe, ThreadLocalRandom.current().nextLong(pauseMicros));
            }
            return s.execute("INSERT INTO " + db.q("effects") + " (k) VALUES ($1)", probe.key)
                    .then(Mono.delay(Duration.ofNanos(pauseMicros * 1_000)))
                    .thenReturn(probe.key)
                    .doOnNext(key -> {
                        if (cancelling && probe.point == CancelPoint.AT_COMMIT) {
                            cancelLater(probe, ThreadLocalRandom.current().nextLong(1_500));
                        }
                    });
        });
    }

    private static void cancelLater(Probe probe, long micros) {
        Schedulers.parallel().schedule(probe.cancel, micros, TimeUnit.MICROSECONDS);
    }

    /** What happened to one step. */
    private static final class Probe {
        final String key;
        final CancelPoint point;
        volatile Runnable cancel;
        volatile boolean functionRan;
        volatile boolean returned;
        volatile boolean cancelled;
        volatile Throwable error;

        Probe(String key, CancelPoint point) {
            this.key = key;
            this.point = point;
        }
    }

    /** Per cancel point: steps, functions run, cancelled before returning, committed. */
    private static Map<CancelPoint, String> tally(List<Probe> probes, Set<String> committed) {
        Map<CancelPoint, String> tally = new EnumMap<>(CancelPoint.class);
        for (CancelPoint point : CancelPoint.values()) {
            List<Probe> at = probes.stream().filter(p -> p.point == point).toList();
            tally.put(point, String.format("%d steps/%d ran/%d cancelled/%d committed", at.size(),
                    at.stream().filter(p -> p.functionRan).count(), at.stream().filter(p -> p.cancelled).count(),
                    at.stream().filter(p -> committed.contains(p.key)).count()));
        }
        return tally;
    }

    // ---- checks ----

    private PoolMetrics awaitPoolDrained() {
        PoolMetrics metrics = ((ConnectionPool) ds.connectionFactory()).getMetrics().orElseThrow();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while ((metrics.acquiredSize() != 0 || metrics.pendingAcquireSize() != 0) && System.nanoTime() < deadline) {
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
        }
        return metrics;
    }

    private Map<String, Integer> effectsPerKey() throws SQLException {
        Map<String, Integer> counts = new HashMap<>();
        try (Connection c = TestDatabases.jdbc(db.url()); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT k, COUNT(*) FROM " + db.q("effects") + " GROUP BY k")) {
            while (rs.next()) {
                counts.put(rs.getString(1), rs.getInt(2));
            }
        }
        return counts;
    }

    private Set<String> recordedKeys() throws SQLException {
        Set<String> keys = new HashSet<>();
        try (Connection c = TestDatabases.jdbc(db.url()); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT workflow_id, step_id FROM " + db.outputs())) {
            while (rs.next()) {
                assertEquals(0, rs.getInt(2), "each workflow has one step");
                keys.add(rs.getString(1));
            }
        }
        return keys;
    }

    /** Sessions of the datasource's pool that are inside a transaction while no step runs. */
    private long idleInTransaction(String applicationName) throws SQLException {
        try (Connection c = TestDatabases.jdbc(db.url());
                PreparedStatement ps = c.prepareStatement("SELECT COUNT(*) FROM pg_stat_activity"
                        + " WHERE application_name = ? AND state LIKE 'idle in transaction%'")) {
            ps.setString(1, applicationName);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }
}
