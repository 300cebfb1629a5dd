package dev.txstep.micrometer;

import static dev.txstep.testing.Workflows.inWorkflow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.txstep.AsyncDatasource;
import dev.txstep.DatasourceConfig;
import dev.txstep.DatasourceOptions;
import dev.txstep.IsolationLevel;
import dev.txstep.RetryPolicy;
import dev.txstep.testing.TestDatabases;
import dev.txstep.testing.TestSchema;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * The Micrometer meters, read back from a {@link SimpleMeterRegistry} after steps that executed,
 * replayed, failed, lost a duplicate race, and were retried after real serialization failures on
 * PostgreSQL; and the pool gauges.
 */
class MicrometerStepObserverTest {

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private String url;
    private String schema;
    private AsyncDatasource ds;

    @BeforeEach
    void setUp() {
        url = TestDatabases.postgresR2dbcUrl();
        schema = TestDatabases.uniqueSchema("metrics");
        ds = AsyncDatasource.create(DatasourceConfig.builder().url(url).schema(schema).maxPoolSize(8)
                .retryPolicy(RetryPolicy.defaults().withMaxAttempts(30).withBackoff(Duration.ofMillis(2), Duration.ofMillis(50)))
                .observer(new MicrometerStepObserver(registry)).build()).block(Duration.ofSeconds(30));
        db().createCounter();
    }

    @AfterEach
    void tearDown() {
        if (ds != null) {
            ds.close().block(Duration.ofSeconds(30));
        }
        db().drop();
    }

    @Test
    void stepsAreCountedAndTimedByOutcome() {
        String id = "wf-" + UUID.randomUUID();
        Mono<List<Long>> workflow = Flux.range(0, 3).concatMap(i -> bump("s" + i)).collectList();
        inWorkflow(id, workflow).block();
        inWorkflow(id, workflow).block();
        Mono<Long> failing = ds.runTxStepAsync(DatasourceOptions.named("fails"),
                s -> Mono.error(new IllegalStateException("no")));
        assertThrows(IllegalStateException.class, () -> inWorkflow("wf-" + UUID.randomUUID(), failing).block());

        assertEquals(3, steps("executed"));
        assertEquals(3, steps("replayed"));
        assertEquals(1, steps("failed"));
        assertEquals(0, steps("conflicted"));
        assertEquals(3, registry.get("txstep.step.duration").tag("outcome", "executed").timer().count());
        assertTrue(registry.get("txstep.step.duration").tag("outcome", "executed").timer()
                .totalTime(TimeUnit.NANOSECONDS) > 0);
    }

    @Test
    void aStepThatLosesTheRaceToAnotherExecutorIsConflicted() throws Exception {
        String id = "wf-" + UUID.randomUUID();
        AtomicInteger calls = new AtomicInteger();
        CountDownLatch winnerDone = new CountDownLatch(1);
        // The first executor's function waits until the second executor has committed the same step.
        Mono<Integer> step = ds.runTxStepAsync(new DatasourceOptions("race", IsolationLevel.READ_COMMITTED), s -> {
            int call = calls.incrementAndGet();
            Mono<Integer> work = s.execute("SELECT 1").thenReturn(call);
            return call > 1 ? work : work.flatMap(v -> Mono.fromCallable(() -> winnerDone.await(20, TimeUnit.SECONDS))
                    .subscribeOn(Schedulers.boundedElastic()).thenReturn(v));
        });
        CompletableFuture<Integer> loser = inWorkflow(id, step).subscribeOn(Schedulers.parallel()).toFuture();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (calls.get() == 0 && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        Integer winner = inWorkflow(id, step).block(Duration.ofSeconds(20));
        winnerDone.countDown();
        assertEquals(2, winner);
        assertEquals(2, loser.get(20, TimeUnit.SECONDS), "the loser returns the winner's recorded output");
        assertEquals(1, steps("executed"));
        assertEquals(1, steps("conflicted"));
    }

    @Test
    void retriesAreCountedBySqlState() {
        int steps = 8;
        CountDownLatch allRead = new CountDownLatch(steps);
        List<Mono<Integer>> all = new ArrayList<>();
        for (int i = 0; i < steps; i++) {
            all.add(inWorkflow("wf-" + UUID.randomUUID(), ds.<Integer>runTxStepAsync(DatasourceOptions.named("rmw"),
                    s -> s.query("SELECT n FROM " + db().q("counter") + " WHERE id = 1", (row, meta) -> row.get(0, Integer.class))
                            .single()
                            .flatMap(n -> {
                                allRead.countDown();
                                return Mono.fromCallable(() -> allRead.await(2, TimeUnit.SECONDS))
                                        .subscribeOn(Schedulers.boundedElastic())
                                        .then(s.execute("UPDATE " + db().q("counter") + " SET n = $1 WHERE id = 1", n + 1))
                                        .thenReturn(n + 1);
                            }))).subscribeOn(Schedulers.parallel()));
        }
        Flux.merge(all).collectList().block(Duration.ofSeconds(60));
        double retried = registry.find("txstep.step.retries").tag("sqlstate", "40001").counters().stream()
                .mapToDouble(Counter::count).sum();
        assertTrue(retried > 0, "serialization failures were retried and counted");
        assertEquals(steps, steps("executed"));
        assertEquals(steps, db().counter());
    }

    @Test
    void poolGaugesFollowThePool() throws Exception {
        assertEquals(8, registry.get("txstep.pool.max.allocated").tag("schema", schema).gauge().value());
        CountDownLatch inside = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        var running = ds.runTxStepAsync(s -> s.execute("SELECT 1").doOnSuccess(x -> inside.countDown())
                        .then(Mono.fromCallable(() -> release.await(20, TimeUnit.SECONDS)).subscribeOn(Schedulers.boundedElastic())))
                .toFuture();
        try {
            assertTrue(inside.await(20, TimeUnit.SECONDS));
            assertEquals(1, registry.get("txstep.pool.acquired").tag("schema", schema).gauge().value());
        } finally {
            release.countDown();
        }
        running.join();
    }

    private double steps(String outcome) {
        return registry.get("txstep.steps").tag("outcome", outcome).counter().count();
    }

    private Mono<Long> bump(String name) {
        return ds.runTxStepAsync(DatasourceOptions.named(name),
                s -> s.execute("UPDATE " + db().q("counter") + " SET n = n + 1 WHERE id = 1"));
    }

    private TestSchema db() {
        return new TestSchema(url, schema);
    }
}
