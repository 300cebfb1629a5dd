package dev.txstep.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.txstep.AsyncDatasource;
import dev.txstep.BlockingDatasource;
import dev.txstep.DatasourceOptions;
import dev.txstep.reactor.Workflow;
import dev.txstep.spring.notes.Note;
import dev.txstep.spring.notes.NoteRepository;
import dev.txstep.spring.notes.NotesConfiguration;
import dev.txstep.testing.Concurrently;
import dev.txstep.testing.TestDatabases;
import io.r2dbc.spi.Statement;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.data.r2dbc.autoconfigure.DataR2dbcAutoConfiguration;
import org.springframework.boot.r2dbc.autoconfigure.R2dbcAutoConfiguration;
import org.springframework.boot.r2dbc.autoconfigure.R2dbcTransactionManagerAutoConfiguration;
import org.springframework.boot.test.context.assertj.AssertableApplicationContext;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.test.context.runner.ContextConsumer;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.transaction.ReactiveTransactionManager;
import org.springframework.transaction.reactive.TransactionalOperator;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;

/**
 * Spring's R2DBC data access inside steps of the auto-configured datasource, on the real local
 * PostgreSQL, proven by counting rows over JDBC: a Spring Data repository's {@code save} and a
 * {@code DatabaseClient} update run in the step's transaction (once across a replay and across 8
 * duplicate executors; never after the step failed or was cancelled), and Spring's own transactions
 * outside steps are unchanged. Every test has its own schema, which is also the connections'
 * {@code search_path}, so the unqualified {@code notes} and {@code counter} tables are its own.
 */
class SpringDataAccessTest {

    private static final String URL = TestDatabases.postgresR2dbcUrl();

    private final String schema = TestDatabases.uniqueSchema("spring_data");

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(R2dbcAutoConfiguration.class,
                    R2dbcTransactionManagerAutoConfiguration.class, DataR2dbcAutoConfiguration.class,
                    TxstepAutoConfiguration.class))
            .withUserConfiguration(NotesConfiguration.class)
            .withPropertyValues("spring.r2dbc.url=" + URL, "spring.r2dbc.properties.schema=" + schema,
                    "spring.r2dbc.pool.max-size=12", "txstep.schema=" + schema);

    @AfterEach
    void dropSchema() {
        TestDatabases.exec(URL, "DROP SCHEMA IF EXISTS \"" + schema + "\" CASCADE");
    }

    @Test
    void aRepositorySaveAndADatabaseClientUpdateInOneStepCommitOnceAcrossAReplay() {
        run(context -> {
            Mono<Long> step = saveAndBump(context, "replayed");
            String id = "wf-" + UUID.randomUUID();
            Long first = Workflow.run(id, step).block(Duration.ofSeconds(30));
            Long second = Workflow.run(id, step).block(Duration.ofSeconds(30));
            assertEquals(first, second, "the replay returns the recorded output");
            assertEquals(1, notes());
            assertEquals(1, counter());
            assertEquals(1, outputs());
        });
    }

    @Test
    void eightConcurrentDuplicateExecutorsCommitTheSavesAndUpdatesOnce() {
        run(context -> {
            Mono<Long> step = saveAndBump(context, "raced");
            String id = "wf-" + UUID.randomUUID();
            List<Long> results = Concurrently.run(8, () -> Workflow.run(id, step).block(Duration.ofSeconds(60)));
            assertEquals(1, new HashSet<>(results).size(), "every executor returns the one recorded output: " + results);
            assertEquals(1, notes());
            assertEquals(1, counter());
            assertEquals(1, outputs());
        });
    }

    @Test
    void aStepWhoseFunctionFailsAfterTheSaveLeavesNoRow() {
        run(context -> {
            Mono<Long> step = datasource(context).runTxStepAsync(DatasourceOptions.named("fails"), tx ->
                    repository(context).save(Note.of("rolled back"))
                            .then(client(context).sql("UPDATE counter SET n = n + 1").fetch().rowsUpdated())
                            .then(Mono.<Long>error(new IllegalStateException("refused after the save"))));
            assertThrows(IllegalStateException.class,
                    () -> Workflow.run("wf-" + UUID.randomUUID(), step).block(Duration.ofSeconds(30)));
            assertEquals(0, notes());
            assertEquals(0, counter());
            assertEquals(1, outputs(), "the error is the step's recorded outcome");
        });
    }

    @Test
    void aCancelledStepLeavesNeitherEffectNorOutputAndSpringsLateStatementIsRefused() {
        run(context -> {
            AtomicReference<Statement> late = new AtomicReference<>();
            CountDownLatch saved = new CountDownLatch(1);
            Mono<Long> step = datasource(context).runTxStepAsync(DatasourceOptions.named("cancelled"), tx ->
                    repository(context).save(Note.of("cancelled"))
                            // The connection Spring hands out inside the step: a statement made on it now
                            // and sent after the cancellation must not reach the database.
                            .then(client(context).inConnection(conn -> {
                                late.set(conn.createStatement("INSERT INTO notes (text) VALUES ('late')"));
                                return Mono.just(1);
                            }))
                            .doOnNext(ignored -> saved.countDown())
                            .then(Mono.<Long>never()));
            Disposable running = Workflow.run("wf-" + UUID.randomUUID(), step).subscribe();
            assertTrue(saved.await(30, TimeUnit.SECONDS));
            running.dispose();
            Thread.sleep(300); // the rollback and the connection's release
            Throwable refused = Mono.from(late.get().execute()).map(result -> (Throwable) null)
                    .onErrorResume(Mono::just).block(Duration.ofSeconds(10));
            assertInstanceOf(CancellationException.class, refused, "the step's gate refuses Spring's late statement");
            assertEquals(0, notes());
            assertEquals(0, outputs());
        });
    }

    @Test
    void aTransactionalOperatorInsideAStepJoinsTheStepsTransaction() {
        run(context -> {
            TransactionalOperator operator = TransactionalOperator.create(context.getBean(ReactiveTransactionManager.class));
            Mono<Long> step = datasource(context).runTxStepAsync(DatasourceOptions.named("joined"), tx ->
                    operator.transactional(repository(context).save(Note.of("joined")))
                            .then(Mono.<Long>error(new IllegalStateException("after the inner transaction"))));
            assertThrows(IllegalStateException.class,
                    () -> Workflow.run("wf-" + UUID.randomUUID(), step).block(Duration.ofSeconds(30)));
            assertEquals(0, notes(), "the inner transaction did not commit on its own");
        });
    }

    @Test
    void outsideAStepSpringsOwnTransactionsWorkUnchanged() {
        run(context -> {
            TransactionalOperator operator = TransactionalOperator.create(context.getBean(ReactiveTransactionManager.class));
            // A step first, so that a binding leaking out of it would show below.
            Workflow.run("wf-" + UUID.randomUUID(), saveAndBump(context, "step")).block(Duration.ofSeconds(30));
            assertThrows(IllegalStateException.class, () -> operator.transactional(
                    repository(context).save(Note.of("rolled back by Spring"))
                            .then(Mono.error(new IllegalStateException("no")))).block(Duration.ofSeconds(30)));
            operator.transactional(repository(context).save(Note.of("committed by Spring"))).block(Duration.ofSeconds(30));
            repository(context).save(Note.of("auto-commit")).block(Duration.ofSeconds(30));
            assertEquals(3, notes());
        });
    }

    @Test
    void blockingCodeInABlockingStepJoinsWhenItCapturesTheContext() {
        run(context -> {
            BlockingDatasource blocking = context.getBean(BlockingDatasource.class);
            NoteRepository notes = repository(context);
            String id = "wf-" + UUID.randomUUID();
            for (int run = 0; run < 2; run++) {
                Workflow.runBlocking(id, () -> blocking.runTxStep(DatasourceOptions.named("blocking"), tx ->
                        notes.save(Note.of("blocking")).contextCapture().block().id()));
            }
            assertThrows(IllegalStateException.class, () -> blocking.runTxStep(DatasourceOptions.named("fails"), tx -> {
                notes.save(Note.of("rolled back")).contextCapture().block();
                throw new IllegalStateException("after the save");
            }));
            assertEquals(1, notes());
        });
    }

    private void run(ContextConsumer<AssertableApplicationContext> test) {
        runner.run(context -> {
            assertThat(context).hasNotFailed();
            TestDatabases.exec(URL, "CREATE TABLE \"" + schema + "\".notes (id BIGSERIAL PRIMARY KEY, text TEXT NOT NULL)");
            TestDatabases.exec(URL, "CREATE TABLE \"" + schema + "\".counter (n INT NOT NULL)");
            TestDatabases.exec(URL, "INSERT INTO \"" + schema + "\".counter VALUES (0)");
            test.accept(context);
        });
    }

    /** One step: a repository save and a DatabaseClient update; its output is the note's id. */
    private static Mono<Long> saveAndBump(AssertableApplicationContext context, String text) {
        return datasource(context).runTxStepAsync(DatasourceOptions.named("save-and-bump"), tx ->
                repository(context).save(Note.of(text))
                        .flatMap(note -> client(context).sql("UPDATE counter SET n = n + 1").fetch().rowsUpdated()
                                .thenReturn(note.id())));
    }

    private static AsyncDatasource datasource(AssertableApplicationContext context) {
        return context.getBean(AsyncDatasource.class);
    }

    private static NoteRepository repository(AssertableApplicationContext context) {
        return context.getBean(NoteRepository.class);
    }

    private static DatabaseClient client(AssertableApplicationContext context) {
        return context.getBean(DatabaseClient.class);
    }

    private long notes() {
        return TestDatabases.queryLong(URL, "SELECT COUNT(*) FROM \"" + schema + "\".notes");
    }

    private long counter() {
        return TestDatabases.queryLong(URL, "SELECT n FROM \"" + schema + "\".counter");
    }

    private long outputs() {
        return TestDatabases.queryLong(URL, "SELECT COUNT(*) FROM \"" + schema + "\".datasource_outputs");
    }
}
