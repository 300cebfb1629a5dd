package dev.txstep.reactor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.txstep.AsyncDatasource;
import dev.txstep.BlockingDatasource;
import dev.txstep.DatasourceConfig;
import dev.txstep.DatasourceOptions;
import dev.txstep.InvalidInputException;
import dev.txstep.StepKey;
import dev.txstep.testing.TestDatabases;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * {@link Workflow} on real PostgreSQL: step ids follow subscription order, each subscription is a
 * new execution that replays from step 0, and blocking and reactive steps share one counter.
 */
class WorkflowTest {

    private String url;
    private String schema;
    private AsyncDatasource ds;
    private final AtomicInteger runs = new AtomicInteger();

    @BeforeEach
    void setUp() {
        url = TestDatabases.postgresR2dbcUrl();
        schema = TestDatabases.uniqueSchema("wf");
        ds = AsyncDatasource.create(DatasourceConfig.builder().url(url).schema(schema).build()).block();
        TestDatabases.exec(url, "CREATE TABLE \"" + schema + "\".effects (step_name text, n int)");
    }

    @AfterEach
    void tearDown() {
        ds.close().block(Duration.ofSeconds(30));
        TestDatabases.exec(url, "DROP SCHEMA \"" + schema + "\" CASCADE");
    }

    /** A step that writes one effect row and returns its name. */
    private Mono<String> step(String name) {
        return ds.runTxStepAsync(DatasourceOptions.named(name), s -> {
            runs.incrementAndGet();
            return s.execute("INSERT INTO \"" + schema + "\".effects VALUES ($1, 1)", name).thenReturn(name);
        });
    }

    private List<String> recordedNamesInIdOrder(String workflowId) {
        try (var c = TestDatabases.jdbc(url); var st = c.prepareStatement("SELECT step_id, step_name FROM \"" + schema
                + "\".datasource_outputs WHERE workflow_id = ? ORDER BY step_id")) {
            st.setString(1, workflowId);
            var rs = st.executeQuery();
            var names = new java.util.ArrayList<String>();
            int expectedId = 0;
            while (rs.next()) {
                assertEquals(expectedId++, rs.getInt(1), "step ids are 0..n-1 without gaps");
                names.add(rs.getString(2));
            }
            return names;
        } catch (java.sql.SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    private long effects() {
        return TestDatabases.queryLong(url, "SELECT COUNT(*) FROM \"" + schema + "\".effects");
    }

    @Test
    void stepsGetIdsInSubscriptionOrderAndReplayFromStepZero() {
        String id = "wf-" + UUID.randomUUID();
        Mono<List<String>> body = step("a").then(step("b"))
                .flatMap(b -> Mono.zip(step("c"), step("d")))
                .thenMany(Flux.range(0, 3).concatMap(i -> step("e" + i)))
                .collectList();
        Mono<List<String>> workflow = Workflow.run(id, body);
        List<String> first = workflow.block();
        assertEquals(7, runs.get());
        List<String> second = workflow.block(); // a re-subscription is a new execution: it replays
        assertEquals(first, second);
        assertEquals(7, runs.get(), "nothing ran twice");
        assertEquals(7, effects());
        assertEquals(List.of("a", "b", "c", "d", "e0", "e1", "e2"), recordedNamesInIdOrder(id));
    }

    @Test
    void retryReplaysCommittedStepsAndRunsTheRest() {
        String id = "wf-" + UUID.randomUUID();
        AtomicInteger failures = new AtomicInteger();
        Mono<String> flaky = Mono.defer(() -> failures.getAndIncrement() == 0
                ? Mono.error(new IllegalStateException("crash between steps")) : Mono.just("ok"));
        String result = Workflow.run(id, step("a").then(step("b")).then(flaky).then(step("c"))).retry(1).block();
        assertEquals("c", result);
        assertEquals(3, runs.get(), "a and b ran once although the workflow ran twice");
        assertEquals(List.of("a", "b", "c"), recordedNamesInIdOrder(id));
    }

    @Test
    void fluxWorkflowsNumberTheirSteps() {
        String id = "wf-" + UUID.randomUUID();
        List<String> names = Workflow.run(id, Flux.range(0, 5).concatMap(i -> step("s" + i))).collectList().block();
        assertEquals(List.of("s0", "s1", "s2", "s3", "s4"), names);
        assertEquals(names, recordedNamesInIdOrder(id));
    }

    @Test
    void idsStayInOrderAcrossThreadHops() {
        String id = "wf-" + UUID.randomUUID();
        Mono<String> body = step("a")
                .publishOn(Schedulers.boundedElastic())
                .then(step("b").subscribeOn(Schedulers.parallel()))
                .publishOn(Schedulers.single())
                .then(step("c"));
        Workflow.run(id, body).block();
        assertEquals(List.of("a", "b", "c"), recordedNamesInIdOrder(id));
    }

    @Test
    void blockingStepsInsideRunBlockingShareTheCounterWithReactiveOnes() {
        String id = "wf-" + UUID.randomUUID();
        BlockingDatasource blocking = BlockingDatasource.wrap(ds);
        Runnable body = () -> {
            blocking.runTxStep(DatasourceOptions.named("blocking-0"), s -> {
                runs.incrementAndGet();
                return s.execute("INSERT INTO \"" + schema + "\".effects VALUES ('blocking-0', 1)");
            });
            // Reactive code called from blocking code carries the thread's workflow with contextCapture().
            step("reactive-1").contextCapture().block();
            blocking.runTxStep(DatasourceOptions.named("blocking-2"), s -> {
                runs.incrementAndGet();
                // ...and a blocking step's function may run reactive steps of the same workflow.
                return step("reactive-3").contextCapture().block();
            });
        };
        Workflow.runBlocking(id, () -> {
            body.run();
            return null;
        });
        assertEquals(4, runs.get());
        Workflow.runBlocking(id, () -> {
            body.run();
            return null;
        });
        assertEquals(4, runs.get(), "the second execution replayed every step");
        assertEquals(List.of("blocking-0", "reactive-1", "blocking-2", "reactive-3"), recordedNamesInIdOrder(id));
    }

    @Test
    void currentStepTellsTheRunningStepAndPeeksOutsideSteps() {
        String id = "wf-" + UUID.randomUUID();
        assertEquals(Optional.empty(), Workflow.currentStep().block());
        StepKey inside = Workflow.run(id, step("a").then(ds.runTxStepAsync(DatasourceOptions.named("b"),
                s -> Workflow.currentStep().map(Optional::orElseThrow)))).block();
        assertEquals(new StepKey(id, 1), inside);
        Optional<StepKey> between = Workflow.run(id, step("a").then(Workflow.currentStep())).block();
        assertEquals(Optional.of(new StepKey(id, 1)), between);
    }

    @Test
    void invalidWorkflowIdsFailBeforeAnythingRuns() {
        assertThrows(InvalidInputException.class, () -> Workflow.run(" ", step("x")));
        assertThrows(InvalidInputException.class, () -> Workflow.run(null, step("x")));
        assertThrows(InvalidInputException.class, () -> Workflow.run("x".repeat(StepKey.MAX_WORKFLOW_ID_LENGTH + 1), step("x")));
        assertThrows(InvalidInputException.class, () -> Workflow.runBlocking("", () -> 1));
        assertThrows(InvalidInputException.class, () -> Workflow.run("ok", (Mono<String>) null));
        assertEquals(0, runs.get());
        assertEquals(0, effects());
    }

    @Test
    void stepsOutsideAnyWorkflowAreNotRecorded() {
        step("plain").block();
        assertEquals(1, effects());
        assertTrue(TestDatabases.queryLong(url, "SELECT COUNT(*) FROM \"" + schema + "\".datasource_outputs") == 0);
    }
}
