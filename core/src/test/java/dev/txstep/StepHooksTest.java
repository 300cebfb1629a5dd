package dev.txstep;

import static dev.txstep.testing.Workflows.inWorkflow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.txstep.observe.StepEvent;
import dev.txstep.observe.StepObserver;
import dev.txstep.spi.StepContextContributor;
import dev.txstep.testing.TestDatabases;
import dev.txstep.testing.TestSchema;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactories;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.Statement;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.util.context.Context;
import reactor.util.context.ContextView;

/**
 * The two extension points integrations build on, on PostgreSQL: a {@link StepContextContributor}
 * hands the step's own (gated) connection to code that finds it in the Reactor context, and a
 * {@link StepObserver} follows each step from its start with an observer of its own.
 */
class StepHooksTest {

    private static final String CONNECTION = "test.step-connection";

    private final List<String> heard = new CopyOnWriteArrayList<>();
    private String url;
    private String schema;
    private AsyncDatasource ds;

    @BeforeEach
    void setUp() {
        url = TestDatabases.postgresR2dbcUrl();
        schema = TestDatabases.uniqueSchema("hooks");
        StepObserver perStep = new StepObserver() {
            @Override
            public StepObserver stepStarted(String stepName, StepKey key, ContextView context) {
                String caller = context.getOrDefault("test.caller", "none");
                return new StepObserver() {
                    @Override
                    public Context stepContext(Context ctx) {
                        return ctx.put("test.observed-step", stepName);
                    }

                    @Override
                    public void stepFinished(StepEvent event) {
                        heard.add(caller + ":" + event.stepName() + ":" + event.outcome());
                    }
                };
            }
        };
        ds = AsyncDatasource.create(DatasourceConfig.builder().url(url).schema(schema)
                .observer(perStep)
                .addContextContributor((ctx, conn, factory) -> ctx.put(CONNECTION, conn))
                .build()).block(Duration.ofSeconds(30));
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
    void codeThatFindsTheContributedConnectionWritesInsideTheStepOnceAcrossAReplay() {
        String id = "wf-" + UUID.randomUUID();
        Mono<Long> step = ds.runTxStepAsync(DatasourceOptions.named("bump"), tx -> Mono.deferContextual(ctx ->
                bump(ctx.get(CONNECTION))));
        inWorkflow(id, step).block(Duration.ofSeconds(30));
        inWorkflow(id, step).block(Duration.ofSeconds(30));
        assertEquals(1, db().counter());
        assertEquals(1, db().count("SELECT COUNT(*) FROM " + db().outputs()));
    }

    @Test
    void aFailedStepRollsBackWhatWasWrittenOnTheContributedConnection() {
        Mono<Long> step = ds.runTxStepAsync(DatasourceOptions.named("bump-then-fail"), tx -> Mono.deferContextual(ctx ->
                bump(ctx.get(CONNECTION)).then(Mono.<Long>error(new IllegalStateException("no")))));
        try {
            inWorkflow("wf-" + UUID.randomUUID(), step).block(Duration.ofSeconds(30));
        } catch (IllegalStateException expected) {
            // the step's outcome
        }
        assertEquals(0, db().counter());
    }

    @Test
    void aStatementSentOnTheContributedConnectionAfterTheStepWasCancelledIsRefused() throws Exception {
        // Prepared while the step runs, sent once it was cancelled: the late statement of code that
        // kept the connection (the pool's own check, on a statement created later, is not the gate).
        AtomicReference<Statement> kept = new AtomicReference<>();
        CountDownLatch running = new CountDownLatch(1);
        Mono<Long> step = ds.runTxStepAsync(DatasourceOptions.named("kept"), tx -> Mono.deferContextual(ctx -> {
            kept.set(ctx.<Connection>get(CONNECTION).createStatement("UPDATE " + db().q("counter")
                    + " SET n = n + 1 WHERE id = 1"));
            running.countDown();
            return Mono.<Long>never();
        }));
        Disposable subscription = inWorkflow("wf-" + UUID.randomUUID(), step).subscribe();
        assertTrue(running.await(30, TimeUnit.SECONDS));
        subscription.dispose();
        Thread.sleep(200); // the cancelled step rolls back and releases its connection
        Throwable refused = Mono.from(kept.get().execute()).map(result -> (Throwable) null)
                .onErrorResume(Mono::just).block(Duration.ofSeconds(10));
        assertInstanceOf(CancellationException.class, refused);
        assertEquals(0, db().counter());
        assertEquals(0, db().count("SELECT COUNT(*) FROM " + db().outputs()));
    }

    @Test
    void eachStepHasTheObserverItsStartChoseWhichSeesTheCallersContextAndAddsToTheFunctions() {
        String id = "wf-" + UUID.randomUUID();
        AtomicReference<String> seen = new AtomicReference<>();
        Mono<String> step = ds.runTxStepAsync(DatasourceOptions.named("observed"), tx -> Mono.deferContextual(ctx ->
                Mono.just(ctx.<String>get("test.observed-step")))).doOnNext(seen::set);
        inWorkflow(id, step).contextWrite(Context.of("test.caller", "request-1")).block(Duration.ofSeconds(30));
        inWorkflow(id, step).contextWrite(Context.of("test.caller", "request-2")).block(Duration.ofSeconds(30));
        assertEquals("observed", seen.get());
        assertEquals(List.of("request-1:observed:EXECUTED", "request-2:observed:REPLAYED"), heard);
    }

    @Test
    void theContributorReceivesTheConnectionFactoryTheDatasourceWasGiven() {
        AtomicReference<Object> factory = new AtomicReference<>();
        ConnectionFactory given = ConnectionFactories.get(url);
        AsyncDatasource other = AsyncDatasource.create(DatasourceConfig.builder().connectionFactory(given)
                .schema(schema).migrate(false)
                .addContextContributor((ctx, conn, f) -> {
                    factory.set(f);
                    return ctx;
                }).build()).block(Duration.ofSeconds(30));
        try {
            other.runTxStepAsync(tx -> Mono.just(1)).block(Duration.ofSeconds(30));
            assertSame(given, factory.get());
        } finally {
            other.close().block(Duration.ofSeconds(30));
        }
    }

    private Mono<Long> bump(Connection conn) {
        return Mono.from(conn.createStatement("UPDATE " + db().q("counter") + " SET n = n + 1 WHERE id = 1").execute())
                .flatMap(result -> Mono.from(result.getRowsUpdated()));
    }

    private TestSchema db() {
        return new TestSchema(url, schema);
    }
}
