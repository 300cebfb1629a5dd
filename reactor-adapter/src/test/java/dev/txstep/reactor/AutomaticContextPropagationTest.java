package dev.txstep.reactor;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.txstep.AsyncDatasource;
import dev.txstep.BlockingDatasource;
import dev.txstep.DatasourceConfig;
import dev.txstep.DatasourceOptions;
import dev.txstep.testing.TestDatabases;
import io.micrometer.context.ContextSnapshotFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Hooks;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * The workflow travels between threads and Reactor {@code Context} by itself for applications that
 * turn on {@code Hooks.enableAutomaticContextPropagation()}: blocking steps called from reactive
 * code on other threads, reactive steps blocked on from blocking code, and tasks handed to an
 * executor with a {@code ContextSnapshot} all take their ids from the one counter of the
 * execution, 0..n-1, and replay by them. Real PostgreSQL; ids are read back from
 * {@code datasource_outputs}.
 */
class AutomaticContextPropagationTest {

    private String url;
    private String schema;
    private AsyncDatasource ds;
    private BlockingDatasource blocking;
    private final AtomicInteger runs = new AtomicInteger();

    @BeforeAll
    static void enableAutomaticPropagation() {
        Hooks.enableAutomaticContextPropagation();
    }

    @AfterAll
    static void disableAutomaticPropagation() {
        // The hook is global: other test classes in this JVM run without it.
        Hooks.disableAutomaticContextPropagation();
    }

    @BeforeEach
    void setUp() {
        url = TestDatabases.postgresR2dbcUrl();
        schema = TestDatabases.uniqueSchema("ctx");
        ds = AsyncDatasource.create(DatasourceConfig.builder().url(url).schema(schema).build()).block();
        blocking = BlockingDatasource.wrap(ds);
    }

    @AfterEach
    void tearDown() {
        ds.close().block(Duration.ofSeconds(30));
        TestDatabases.exec(url, "DROP SCHEMA \"" + schema + "\" CASCADE");
    }

    @Test
    void blockingStepsCalledFromReactiveCodeOnOtherThreadsTakeTheNextIds() {
        String id = "wf-" + UUID.randomUUID();
        // No contextCapture, no explicit scope: the hook restores the workflow on the elastic thread.
        Mono<List<String>> body = Flux.range(0, 6)
                .concatMap(i -> i % 2 == 0
                        ? reactiveStep("r" + i).publishOn(Schedulers.parallel())
                        : Mono.fromCallable(() -> blockingStep("b" + i)).subscribeOn(Schedulers.boundedElastic()))
                .collectList();
        List<String> first = Workflow.run(id, body).block(Duration.ofSeconds(30));
        assertEquals(List.of("r0", "b1", "r2", "b3", "r4", "b5"), first);
        assertEquals(first, recordedNamesInIdOrder(id));
        assertEquals(6, runs.get());
        assertEquals(first, Workflow.run(id, body).block(Duration.ofSeconds(30)));
        assertEquals(6, runs.get(), "the replay ran nothing");
    }

    @Test
    void reactiveStepsBlockedOnFromBlockingCodeTakeTheNextIds() {
        String id = "wf-" + UUID.randomUUID();
        // block() captures the thread's workflow into the Context under the hook: no contextCapture().
        Runnable body = () -> {
            blockingStep("b0");
            reactiveStep("r1").subscribeOn(Schedulers.parallel()).block(Duration.ofSeconds(30));
            blockingStep("b2");
        };
        Workflow.runBlocking(id, () -> {
            body.run();
            return null;
        });
        Workflow.runBlocking(id, () -> {
            body.run();
            return null;
        });
        assertEquals(List.of("b0", "r1", "b2"), recordedNamesInIdOrder(id));
        assertEquals(3, runs.get(), "the second execution replayed every step");
    }

    @Test
    void aContextSnapshotCarriesTheWorkflowToAnExecutorThread() throws Exception {
        String id = "wf-" + UUID.randomUUID();
        ContextSnapshotFactory snapshots = ContextSnapshotFactory.builder().build();
        ExecutorService executor = Executors.newSingleThreadExecutor();
        try {
            Workflow.runBlocking(id, () -> {
                blockingStep("b0");
                try {
                    // The task runs on the executor's thread, inside this thread's workflow.
                    executor.submit(snapshots.captureAll().wrap(() -> {
                        blockingStep("b1");
                        return null;
                    })).get();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
                blockingStep("b2");
                return null;
            });
        } finally {
            executor.shutdownNow();
        }
        assertEquals(List.of("b0", "b1", "b2"), recordedNamesInIdOrder(id));
    }

    private Mono<String> reactiveStep(String name) {
        return ds.runTxStepAsync(DatasourceOptions.named(name), s -> {
            runs.incrementAndGet();
            return s.execute("SELECT 1").thenReturn(name);
        });
    }

    private String blockingStep(String name) {
        return blocking.runTxStep(DatasourceOptions.named(name), s -> {
            runs.incrementAndGet();
            s.execute("SELECT 1");
            return name;
        });
    }

    private List<String> recordedNamesInIdOrder(String workflowId) {
        try (var c = TestDatabases.jdbc(url); var st = c.prepareStatement("SELECT step_id, step_name FROM \"" + schema
                + "\".datasource_outputs WHERE workflow_id = ? ORDER BY step_id")) {
            st.setString(1, workflowId);
            var rs = st.executeQuery();
            List<String> names = new ArrayList<>();
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
}
