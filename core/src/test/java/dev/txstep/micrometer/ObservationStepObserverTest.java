package dev.txstep.micrometer;

import static dev.txstep.testing.Workflows.inWorkflow;
import static io.micrometer.observation.tck.ObservationContextAssert.assertThat;
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
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationHandler;
import io.micrometer.observation.ObservationRegistry;
import io.micrometer.observation.contextpropagation.ObservationThreadLocalAccessor;
import io.micrometer.observation.tck.TestObservationRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import reactor.util.context.Context;

/**
 * The {@code txstep.step} observations, read back from a {@link TestObservationRegistry} (which
 * also fails a test on a misused observation: stopped twice, an event after its stop) after steps
 * that executed, replayed, failed and were retried after real serialization failures on
 * PostgreSQL.
 */
class ObservationStepObserverTest {

    private final TestObservationRegistry registry = TestObservationRegistry.create();
    /** The contexts of stopped observations, in stop order, and the events each was given. */
    private final List<Observation.Context> stopped = new CopyOnWriteArrayList<>();
    private final List<String> events = new CopyOnWriteArrayList<>();
    private String url;
    private String schema;
    private AsyncDatasource ds;

    @BeforeEach
    void setUp() {
        registry.observationConfig().observationHandler(new ObservationHandler<>() {
            @Override
            public boolean supportsContext(Observation.Context context) {
                return true;
            }

            @Override
            public void onEvent(Observation.Event event, Observation.Context context) {
                events.add(event.getName() + ": " + event.getContextualName());
            }

            @Override
            public void onStop(Observation.Context context) {
                stopped.add(context);
            }
        });
        url = TestDatabases.postgresR2dbcUrl();
        schema = TestDatabases.uniqueSchema("observe");
        ds = AsyncDatasource.create(DatasourceConfig.builder().url(url).schema(schema).maxPoolSize(8)
                .retryPolicy(RetryPolicy.defaults().withMaxAttempts(30).withBackoff(Duration.ofMillis(2), Duration.ofMillis(50)))
                .observer(new ObservationStepObserver(registry)).build()).block(Duration.ofSeconds(30));
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
    void aRecordedStepIsAnObservationChildOfTheCallersWithItsKeysAndItsFunctionSeesIt() {
        String id = "wf-" + UUID.randomUUID();
        Observation parent = Observation.start("request", registry);
        AtomicReference<Object> seenByFunction = new AtomicReference<>();
        Mono<Long> step = ds.runTxStepAsync(new DatasourceOptions("pay", IsolationLevel.REPEATABLE_READ),
                s -> Mono.deferContextual(ctx -> {
                    seenByFunction.set(ctx.getOrDefault(ObservationThreadLocalAccessor.KEY, null));
                    return s.execute("UPDATE " + db().q("counter") + " SET n = n + 1 WHERE id = 1");
                }));
        inWorkflow(id, step).contextWrite(Context.of(ObservationThreadLocalAccessor.KEY, parent)).block();
        parent.stop();

        Observation.Context step0 = stopped.get(0);
        assertThat(step0).hasNameEqualTo("txstep.step").hasContextualNameEqualTo("txstep pay")
                .hasParentObservationEqualTo(parent)
                .hasLowCardinalityKeyValue("txstep.step.name", "pay")
                .hasLowCardinalityKeyValue("txstep.step.outcome", "executed")
                .hasLowCardinalityKeyValue("txstep.isolation", "REPEATABLE_READ")
                .hasLowCardinalityKeyValue("txstep.read-only", "false")
                .hasHighCardinalityKeyValue("txstep.workflow.id", id)
                .hasHighCardinalityKeyValue("txstep.step.id", "0")
                // unbounded values must never become meter tags
                .doesNotHaveLowCardinalityKeyValueWithKey("txstep.workflow.id")
                .doesNotHaveLowCardinalityKeyValueWithKey("txstep.step.id")
                .doesNotHaveError();
        assertTrue(seenByFunction.get() instanceof Observation o && o.getContext() == step0,
                "the function runs with the step's observation as the current one");
        assertEquals(List.of(), events, "a step that was not retried has no events");
    }

    @Test
    void aReplayedStepIsObservedWithOutcomeReplayed() {
        String id = "wf-" + UUID.randomUUID();
        Mono<Long> step = ds.runTxStepAsync(DatasourceOptions.named("pay"),
                s -> s.execute("UPDATE " + db().q("counter") + " SET n = n + 1 WHERE id = 1"));
        inWorkflow(id, step).block();
        inWorkflow(id, step).block();

        assertEquals(2, stopped.size());
        assertThat(stopped.get(0)).hasLowCardinalityKeyValue("txstep.step.outcome", "executed");
        assertThat(stopped.get(1)).hasLowCardinalityKeyValue("txstep.step.outcome", "replayed")
                .hasHighCardinalityKeyValue("txstep.workflow.id", id)
                .hasHighCardinalityKeyValue("txstep.step.id", "0")
                .doesNotHaveParentObservation();
        assertEquals(1, db().counter(), "the replay ran nothing");
    }

    @Test
    void aFailedStepCarriesItsErrorAndAReadOnlyStepHasNoKey() {
        IllegalStateException boom = new IllegalStateException("no");
        Mono<Long> failing = ds.runTxStepAsync(DatasourceOptions.named("fails"), s -> Mono.error(boom));
        assertThrows(IllegalStateException.class, () -> inWorkflow("wf-" + UUID.randomUUID(), failing).block());
        ds.runTxStepAsync(DatasourceOptions.named("look").asReadOnly(), s -> s.execute("SELECT 1")).block();

        assertThat(stopped.get(0)).hasLowCardinalityKeyValue("txstep.step.outcome", "failed").hasError(boom);
        assertThat(stopped.get(1)).hasLowCardinalityKeyValue("txstep.step.name", "look")
                .hasLowCardinalityKeyValue("txstep.read-only", "true")
                .hasLowCardinalityKeyValue("txstep.isolation", "SERIALIZABLE")
                .doesNotHaveHighCardinalityKeyValueWithKey("txstep.workflow.id")
                .doesNotHaveHighCardinalityKeyValueWithKey("txstep.step.id");
    }

    @Test
    void retriedAttemptsAreEventsOfTheStepsObservation() {
        int steps = 8;
        CountDownLatch allRead = new CountDownLatch(steps);
        List<Mono<Integer>> all = new ArrayList<>();
        for (int i = 0; i < steps; i++) {
            // Every step reads the counter before any writes it: at SERIALIZABLE all but one fail with 40001.
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

        assertEquals(steps, stopped.size(), "one observation per step, not per attempt");
        assertTrue(!events.isEmpty(), "serialization failures were retried");
        assertTrue(events.stream().allMatch(e -> e.equals("txstep.step.retry: retried after SQLSTATE 40001")), events::toString);
        for (Observation.Context context : stopped) {
            assertThat(context).hasLowCardinalityKeyValue("txstep.step.outcome", "executed");
        }
        assertEquals(steps, db().counter());
    }

    @Test
    void withANoopRegistryTheFunctionRunsWithoutAnObservation() {
        AtomicReference<Boolean> hasObservation = new AtomicReference<>();
        AsyncDatasource quiet = AsyncDatasource.create(DatasourceConfig.builder().url(url).schema(schema)
                .observer(new ObservationStepObserver(ObservationRegistry.NOOP)).build())
                .block(Duration.ofSeconds(30));
        try {
            quiet.runTxStepAsync(DatasourceOptions.named("quiet"), s -> Mono.deferContextual(ctx -> {
                hasObservation.set(ctx.hasKey(ObservationThreadLocalAccessor.KEY));
                return s.execute("SELECT 1");
            })).block();
        } finally {
            quiet.close().block(Duration.ofSeconds(30));
        }
        assertEquals(false, hasObservation.get(), "no no-op observation is put in the function's context");
    }

    private TestSchema db() {
        return new TestSchema(url, schema);
    }
}
