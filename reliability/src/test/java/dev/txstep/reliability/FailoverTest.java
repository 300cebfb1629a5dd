package dev.txstep.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.txstep.AsyncDatasource;
import dev.txstep.DatasourceConfig;
import dev.txstep.DatasourceOptions;
import dev.txstep.IsolationLevel;
import dev.txstep.RetriesExhaustedException;
import dev.txstep.RetryPolicy;
import dev.txstep.observe.StepObserver;
import dev.txstep.reactor.Workflow;
import io.r2dbc.pool.ConnectionPool;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * R8, PostgreSQL failover: 8 workflows of many steps run concurrently on a primary with one
 * streaming standby, through r2dbc-postgresql's multi-host URL ({@code targetServerType=primary});
 * mid-load the primary is killed with SIGKILL (postmaster and every backend), the standby is
 * promoted one second later (a failover manager's detection time) and a new standby is seeded from it (see {@link ReplicatedPostgres}), once in the short
 * variant and 3 times in the long one. Each step is R1's: it inserts an effect row keyed by a fresh
 * UUID (no constraint on the step, so a second effect of a step would be counted, not refused),
 * increments its workflow's counter and returns the UUID.
 *
 * <p>After the load every workflow is run again, as a workflow engine's recovery would, until a
 * run executes no step; then rows are counted on the surviving primary:
 * <ul>
 *   <li>each step's effect exactly once, each workflow's counter equal to its steps, one output
 *       row per step and no error row;</li>
 *   <li>each output row names an effect of its own step, and each effect is named by an output
 *       row: effect and output travel in one transaction;</li>
 *   <li>synchronous replication: every output a caller received is the step's surviving effect
 *       (nothing acknowledged was lost) and the recovery run executes nothing;</li>
 *   <li>asynchronous replication: steps whose acknowledged commit was lost with the old primary
 *       are counted; each ran again and its new effect is the only one;</li>
 *   <li>a retry policy that outlasts the failover: no caller sees an error; a short one: callers
 *       get {@link RetriesExhaustedException} and a re-run of the same workflow completes.</li>
 * </ul>
 */
class FailoverTest {

    private static final int WORKFLOWS = 8;
    /**
     * How long after the kill the standby is promoted: the time a failover manager takes to decide
     * that the primary is gone (pg_auto_failover's defaults take tens of seconds).
     */
    private static final Duration DETECTION = Duration.ofSeconds(1);
    /** Runs of one workflow allowed before the scenario is declared failed. */
    private static final int MAX_RUNS = 20;

    /** Replication mode and retry policy of one run. */
    enum Variant {
        /** Synchronous standby; retries outlast the failover. */
        SYNCHRONOUS_RETRIES_OUTLAST(ReplicatedPostgres.Replication.SYNCHRONOUS, true),
        /** Asynchronous standby; retries outlast the failover. */
        ASYNCHRONOUS_RETRIES_OUTLAST(ReplicatedPostgres.Replication.ASYNCHRONOUS, true),
        /** Synchronous standby; retries give up during the failover, the caller runs the workflow again. */
        SYNCHRONOUS_RETRIES_GIVE_UP(ReplicatedPostgres.Replication.SYNCHRONOUS, false),
        /** Asynchronous standby; retries give up during the failover, the caller runs the workflow again. */
        ASYNCHRONOUS_RETRIES_GIVE_UP(ReplicatedPostgres.Replication.ASYNCHRONOUS, false);

        final ReplicatedPostgres.Replication replication;
        final boolean outlast;

        Variant(ReplicatedPostgres.Replication replication, boolean outlast) {
            this.replication = replication;
            this.outlast = outlast;
        }

        RetryPolicy policy() {
            // Up to 20 attempts, 100 ms doubling to 2 s: about 30 s of retrying, more than a
            // promotion takes here. Or 2 attempts 10 ms apart: fewer than a promotion takes.
            return outlast ? RetryPolicy.defaults().withMaxAttempts(20).withBackoff(Duration.ofMillis(100), Duration.ofSeconds(2))
                    : RetryPolicy.defaults().withMaxAttempts(2).withBackoff(Duration.ofMillis(10), Duration.ofMillis(10));
        }
    }

    /** One cluster per replication mode, shared by the variants of that mode (creating one costs seconds). */
    private static final Map<ReplicatedPostgres.Replication, ReplicatedPostgres> CLUSTERS =
            new EnumMap<>(ReplicatedPostgres.Replication.class);

    @AfterAll
    static void stopClusters() {
        CLUSTERS.values().forEach(ReplicatedPostgres::close);
        CLUSTERS.clear();
    }

    private static ReplicatedPostgres cluster(ReplicatedPostgres.Replication replication) {
        return CLUSTERS.computeIfAbsent(replication, ReplicatedPostgres::start);
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Variant.class)
    @Timeout(value = 20, unit = TimeUnit.MINUTES)
    void everyStepTakesEffectExactlyOnceAcrossPrimaryKillsAndPromotions(Variant variant) throws Exception {
        int steps = Scale.pick(150, 500);
        int kills = Scale.pick(1, 3);
        ReplicatedPostgres cluster = cluster(variant.replication);
        boolean passed = false;
        try {
            run(variant, cluster, steps, kills);
            passed = true;
        } finally {
            if (!passed) {
                // A failed run may leave the cluster without a primary or a standby: the next variant gets a new one.
                CLUSTERS.remove(variant.replication);
                cluster.close();
            }
        }
    }

    private void run(Variant variant, ReplicatedPostgres cluster, int steps, int kills) throws Exception {
        String schema = "r8_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
        String prefix = "r8-" + schema + "-";
        AtomicInteger retries = new AtomicInteger();
        StepObserver countRetries = new StepObserver() {
            @Override
            public void stepRetried(String stepName, String sqlState) {
                retries.incrementAndGet();
            }
        };
        // Migrations go through the JDBC URL derived from the multi-host URL: to the primary.
        AsyncDatasource ds = AsyncDatasource.create(DatasourceConfig.builder().url(cluster.failoverUrl())
                        .schema(schema).maxPoolSize(WORKFLOWS).retryPolicy(variant.policy()).observer(countRetries).build())
                .block(Duration.ofSeconds(60));
        ExecutorService executor = Executors.newFixedThreadPool(WORKFLOWS + 1);
        try {
            cluster.execOnPrimary("CREATE TABLE \"" + schema + "\".effects (id varchar(36) PRIMARY KEY, workflow int NOT NULL,"
                    + " step int NOT NULL)");
            cluster.execOnPrimary("CREATE TABLE \"" + schema + "\".counter (id int PRIMARY KEY, n int NOT NULL)");
            cluster.execOnPrimary("INSERT INTO \"" + schema + "\".counter SELECT g, 0 FROM generate_series(0, " + (WORKFLOWS - 1) + ") g");
            cluster.awaitStandbyCaughtUp();

            Load load = new Load(ds, schema, prefix, steps, kills);
            List<Kill> done = new ArrayList<>();
            long start = System.nanoTime();
            CompletableFuture<Void> killer = CompletableFuture.runAsync(() -> {
                for (int k = 1; k <= kills; k++) {
                    load.awaitCommitted((long) k * WORKFLOWS * steps / (kills + 1));
                    done.add(load.failover(cluster, k));
                }
            }, executor);
            List<CompletableFuture<List<String>>> runs = new ArrayList<>();
            for (int w = 0; w < WORKFLOWS; w++) {
                int workflow = w;
                runs.add(CompletableFuture.supplyAsync(() -> load.runUntilComplete(workflow), executor));
            }
            // A failed failover would leave commits waiting for a standby forever: fail at once.
            CompletableFuture.anyOf(CompletableFuture.allOf(runs.toArray(CompletableFuture[]::new)),
                    killer.thenCompose(ignored -> new CompletableFuture<>())).get(10, TimeUnit.MINUTES);
            for (CompletableFuture<List<String>> run : runs) {
                assertEquals(steps, run.get(10, TimeUnit.MINUTES).size(), "every workflow completed");
            }
            killer.get(5, TimeUnit.MINUTES);
            long loadMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertEquals(kills, done.size(), "the primary was killed while the workflows ran");

            // Recovery: every workflow run again until a run executes nothing.
            int functionRunsBeforeRecovery = load.functionRuns.get();
            int recoveryPasses = 0;
            int recoveryRuns;
            do {
                int before = load.functionRuns.get();
                for (int w = 0; w < WORKFLOWS; w++) {
                    assertEquals(steps, load.runUntilComplete(w).size());
                }
                recoveryRuns = load.functionRuns.get() - before;
                recoveryPasses++;
            } while (recoveryRuns > 0 && recoveryPasses < 3);
            assertEquals(0, recoveryRuns, "a later run of every workflow executes no step");
            int rerunInRecovery = load.functionRuns.get() - functionRunsBeforeRecovery;

            // Count on the surviving primary.
            assertEquals(List.of(), stepsWithOtherThanOneEffect(cluster, schema, steps), "each step's effect exactly once");
            assertEquals((long) WORKFLOWS * steps, cluster.countOnPrimary("SELECT COUNT(*) FROM \"" + schema + "\".effects"));
            assertEquals(List.of(), countersOtherThan(cluster, schema, steps), "each workflow's counter = its steps");
            assertEquals((long) WORKFLOWS * steps, cluster.countOnPrimary("SELECT COUNT(*) FROM \"" + schema
                    + "\".datasource_outputs"), "one output row per step");
            assertEquals(0, cluster.countOnPrimary("SELECT COUNT(*) FROM \"" + schema + "\".datasource_outputs WHERE error IS NOT NULL"),
                    "no step recorded an error");
            String pairs = "FROM \"" + schema + "\".datasource_outputs o FULL JOIN \"" + schema + "\".effects e"
                    + " ON e.id = (o.output::jsonb #>> '{}') AND o.workflow_id = '" + prefix + "' || e.workflow"
                    + " AND o.step_id = e.step";
            assertEquals(0, cluster.countOnPrimary("SELECT COUNT(*) " + pairs + " WHERE e.id IS NULL"),
                    "no output row without its step's effect");
            assertEquals(0, cluster.countOnPrimary("SELECT COUNT(*) " + pairs + " WHERE o.workflow_id IS NULL"),
                    "no effect without its step's output row");

            Map<Long, String> surviving = survivingEffects(cluster, schema, steps);
            int lostThenRerun = 0;
            for (Map.Entry<Long, Set<String>> told : load.told.entrySet()) {
                String survivor = surviving.get(told.getKey());
                if (told.getValue().stream().anyMatch(id -> !id.equals(survivor))) {
                    lostThenRerun++;
                }
            }
            assertEquals((long) WORKFLOWS * steps, load.told.size(), "every step's output reached its caller");
            if (variant.replication == ReplicatedPostgres.Replication.SYNCHRONOUS) {
                assertEquals(0, lostThenRerun, "synchronous replication: every output a caller received is the"
                        + " step's surviving effect (no acknowledged commit was lost)");
                assertEquals(0, rerunInRecovery, "synchronous replication: recovery had nothing to run again");
            }
            if (variant.outlast) {
                assertEquals(List.of(), load.failedRuns, "retries outlasting the failover: no caller saw an error");
                assertTrue(retries.get() > 0, "the kills cut steps, which were retried");
            } else {
                assertTrue(!load.failedRuns.isEmpty(), "a short retry policy gave up during the failover");
                assertTrue(load.failedRuns.stream().allMatch(f -> f.startsWith("RetriesExhaustedException")),
                        "callers saw RetriesExhaustedException: " + load.failedRuns);
            }
            assertPoolDrained(ds);

            Report.of("R8 failover, " + variant.name().toLowerCase().replace('_', ' '))
                    .put("workflows", WORKFLOWS)
                    .put("steps", WORKFLOWS * steps)
                    .put("kills", kills)
                    .put("lostThenRerun", lostThenRerun)
                    .put("rerunInRecovery", rerunInRecovery)
                    .put("stepRetries", retries.get())
                    .put("failedRuns", load.failedRuns.size())
                    .put("functionRuns", load.functionRuns.get())
                    .put("recoverMs", done.stream().map(k -> k.recoverMillis).toList())
                    .put("killMs", done.stream().map(k -> k.killMillis).toList())
                    .put("promoteMs", done.stream().map(k -> k.promoteMillis).toList())
                    .put("reseedMs", done.stream().map(k -> k.reseedMillis).toList())
                    .put("loadMs", loadMillis)
                    .publish();
        } finally {
            executor.shutdownNow();
            ds.close().block(Duration.ofSeconds(30));
        }
    }

    /** Times of one failover. */
    private record Kill(long recoverMillis, long killMillis, long promoteMillis, long reseedMillis) {
    }

    /** The 8 workflows, what their callers were told, and the failovers timed against them. */
    private static final class Load {
        final AsyncDatasource ds;
        final String schema;
        final String prefix;
        final int steps;
        final AtomicInteger functionRuns = new AtomicInteger();
        /** Per step (workflow × steps + step): every output its callers received. */
        final Map<Long, Set<String>> told = new ConcurrentHashMap<>();
        final List<String> failedRuns = new java.util.concurrent.CopyOnWriteArrayList<>();
        final AtomicLong committed = new AtomicLong();
        volatile long promotedAt;
        final AtomicLong firstCommitAfterPromotion = new AtomicLong();
        /**
         * Kill {@code k} comes when {@code k/(kills+1)} of all steps have committed. A workflow
         * that runs ahead waits before step {@code k·steps/(kills+1) + steps/10} until kill {@code k}
         * has begun (between steps, holding no connection): so no workflow finishes before the
         * last kill, however fast the workflows are next to a failover and a re-seeding.
         */
        final int[] gates;
        volatile int killsStarted;

        Load(AsyncDatasource ds, String schema, String prefix, int steps, int kills) {
            this.ds = ds;
            this.schema = schema;
            this.prefix = prefix;
            this.steps = steps;
            this.gates = new int[kills];
            for (int k = 1; k <= kills; k++) {
                gates[k - 1] = k * steps / (kills + 1) + steps / 10;
            }
        }

        /** Completes when the kills a workflow must wait for before step {@code i} are done. */
        private Mono<Void> gate(int i) {
            int needed = 0;
            while (needed < gates.length && i >= gates[needed]) {
                needed++;
            }
            int kills = needed;
            return killsStarted >= kills ? Mono.empty()
                    : Flux.interval(Duration.ofMillis(5)).filter(tick -> killsStarted >= kills).next().then();
        }

        Mono<List<String>> workflow(int w) {
            return Workflow.run(prefix + w, Flux.range(0, steps).concatMap(i -> gate(i).then(step(w, i))).collectList());
        }

        private Mono<String> step(int w, int i) {
            return ds.runTxStepAsync(new DatasourceOptions("effect-" + i, IsolationLevel.SERIALIZABLE), String.class, tx -> {
                        functionRuns.incrementAndGet();
                        String id = UUID.randomUUID().toString();
                        return tx.execute("INSERT INTO \"" + schema + "\".effects (id, workflow, step) VALUES ($1, $2, $3)", id, w, i)
                                .then(tx.execute("UPDATE \"" + schema + "\".counter SET n = n + 1 WHERE id = $1", w))
                                .thenReturn(id);
                    })
                    .doOnNext(id -> told(w, i, id));
        }

        private void told(int w, int i, String id) {
            Set<String> ids = told.computeIfAbsent((long) w * steps + i, k -> ConcurrentHashMap.newKeySet());
            if (ids.isEmpty() && ids.add(id)) {
                committed.incrementAndGet();
                long promoted = promotedAt;
                if (promoted != 0) {
                    firstCommitAfterPromotion.compareAndSet(0, System.nanoTime());
                }
            } else {
                ids.add(id);
            }
        }

        /** Runs workflow {@code w} until a run completes; a run that gives up is run again after a pause. */
        List<String> runUntilComplete(int w) {
            for (int run = 1; ; run++) {
                try {
                    return workflow(w).block(Duration.ofMinutes(10));
                } catch (RetriesExhaustedException e) {
                    failedRuns.add("RetriesExhaustedException(workflow " + w + ")");
                    if (run >= MAX_RUNS) {
                        fail("workflow " + w + " did not complete in " + MAX_RUNS + " runs: " + failedRuns);
                    }
                }
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(500));
            }
        }

        void awaitCommitted(long n) {
            while (committed.get() < n) {
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(2));
            }
        }

        /**
         * Kills the primary, promotes the standby, seeds a new standby; times each part. Recovery
         * is the time from the kill to the first step committed after the promotion.
         */
        Kill failover(ReplicatedPostgres cluster, int k) {
            long killAt = System.nanoTime();
            firstCommitAfterPromotion.set(0);
            promotedAt = 0;
            killsStarted = k;
            cluster.killPrimary();
            long killed = System.nanoTime();
            // A failover manager promotes only once it has seen the primary fail for a while.
            LockSupport.parkNanos(DETECTION.toNanos());
            cluster.promoteStandby();
            long promoted = System.nanoTime();
            promotedAt = promoted;
            cluster.reseedStandby();
            long reseeded = System.nanoTime();
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
            while (firstCommitAfterPromotion.get() == 0 && System.nanoTime() < deadline) {
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(2));
            }
            long recovered = firstCommitAfterPromotion.get();
            assertTrue(recovered != 0, "a step committed after the promotion");
            return new Kill(TimeUnit.NANOSECONDS.toMillis(recovered - killAt), TimeUnit.NANOSECONDS.toMillis(killed - killAt),
                    TimeUnit.NANOSECONDS.toMillis(promoted - killed) - DETECTION.toMillis(),
                    TimeUnit.NANOSECONDS.toMillis(reseeded - promoted));
        }
    }

    private static List<String> stepsWithOtherThanOneEffect(ReplicatedPostgres cluster, String schema, int steps)
            throws SQLException {
        List<String> wrong = new ArrayList<>();
        try (Connection c = cluster.primaryJdbc(); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT w, i, COUNT(e.id) FROM generate_series(0, " + (WORKFLOWS - 1)
                        + ") w CROSS JOIN generate_series(0, " + (steps - 1) + ") i LEFT JOIN \"" + schema
                        + "\".effects e ON e.workflow = w AND e.step = i GROUP BY w, i HAVING COUNT(e.id) <> 1 ORDER BY w, i")) {
            while (rs.next()) {
                wrong.add("workflow " + rs.getInt(1) + " step " + rs.getInt(2) + ": " + rs.getLong(3) + " effects");
            }
        }
        return wrong;
    }

    private static List<String> countersOtherThan(ReplicatedPostgres cluster, String schema, int steps) throws SQLException {
        List<String> wrong = new ArrayList<>();
        try (Connection c = cluster.primaryJdbc(); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT id, n FROM \"" + schema + "\".counter WHERE n <> " + steps)) {
            while (rs.next()) {
                wrong.add("workflow " + rs.getInt(1) + ": " + rs.getInt(2));
            }
        }
        return wrong;
    }

    /** The surviving effect of each step, keyed as {@link Load#told} is. */
    private static Map<Long, String> survivingEffects(ReplicatedPostgres cluster, String schema, int steps)
            throws SQLException {
        Map<Long, String> effects = new HashMap<>();
        try (Connection c = cluster.primaryJdbc(); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT workflow, step, id FROM \"" + schema + "\".effects")) {
            while (rs.next()) {
                effects.put((long) rs.getInt(1) * steps + rs.getInt(2), rs.getString(3));
            }
        }
        return effects;
    }

    private static void assertPoolDrained(AsyncDatasource ds) {
        ConnectionPool pool = (ConnectionPool) ds.connectionFactory();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (pool.getMetrics().orElseThrow().acquiredSize() != 0 && System.nanoTime() < deadline) {
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
        }
        assertEquals(0, pool.getMetrics().orElseThrow().acquiredSize(), "every connection went back to the pool");
    }
}
