package dev.txstep.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.txstep.RecordedStepException;
import dev.txstep.spring.notes.NoteAudit;
import dev.txstep.spring.notes.NoteRepository;
import dev.txstep.spring.notes.NoteService;
import dev.txstep.spring.notes.NotesConfiguration;
import dev.txstep.reactor.Workflow;
import dev.txstep.testing.TestDatabases;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.data.r2dbc.autoconfigure.DataR2dbcAutoConfiguration;
import org.springframework.boot.r2dbc.autoconfigure.R2dbcAutoConfiguration;
import org.springframework.boot.r2dbc.autoconfigure.R2dbcTransactionManagerAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.transaction.annotation.Transactional;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * {@link TxStep} methods of Spring beans, on the real local PostgreSQL with Spring Data R2DBC:
 * effects and output rows counted over JDBC, and the start-up refusals of methods that cannot work.
 */
class TxStepTest {

    private static final String URL = TestDatabases.postgresR2dbcUrl();

    private final String schema = TestDatabases.uniqueSchema("txstep_methods");

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(R2dbcAutoConfiguration.class,
                    R2dbcTransactionManagerAutoConfiguration.class, DataR2dbcAutoConfiguration.class,
                    TxstepAutoConfiguration.class, TxStepAutoConfiguration.class))
            .withPropertyValues("spring.r2dbc.url=" + URL, "spring.r2dbc.properties.schema=" + schema,
                    "txstep.schema=" + schema);

    @AfterEach
    void dropSchema() {
        TestDatabases.exec(URL, "DROP SCHEMA IF EXISTS \"" + schema + "\" CASCADE");
    }

    @Test
    void aReactiveTxStepMethodRunsOnceInAWorkflowUnderItsDefaultName() {
        run(service -> {
            String id = "wf-" + UUID.randomUUID();
            Long first = Workflow.run(id, service.write("once")).block(Duration.ofSeconds(30));
            Long replayed = Workflow.run(id, service.write("once")).block(Duration.ofSeconds(30));
            assertEquals(first, replayed);
            assertEquals(1, notes());
            assertEquals(List.of("NoteService.write"), stepNames());
        });
    }

    @Test
    void outsideAWorkflowATxStepMethodIsAPlainTransaction() {
        run(service -> {
            service.write("plain").block(Duration.ofSeconds(30));
            assertThrows(IllegalStateException.class, () -> service.writeThenFail("rolled back").block(Duration.ofSeconds(30)));
            assertEquals(1, notes());
            assertEquals(0, outputs());
        });
    }

    @Test
    void aTxStepMethodThatFailsAfterItsSaveLeavesNoRowAndRecordsItsError() {
        run(service -> {
            String id = "wf-" + UUID.randomUUID();
            assertThrows(IllegalStateException.class, () -> Workflow.run(id, service.writeThenFail("x")).block(Duration.ofSeconds(30)));
            // The replay raises the recorded error (a JDK type outside the serializer's allow-list
            // comes back as RecordedStepException) and runs nothing.
            assertThrows(RecordedStepException.class, () -> Workflow.run(id, service.writeThenFail("x")).block(Duration.ofSeconds(30)));
            assertEquals(0, notes());
            assertEquals(List.of("write-then-fail"), stepNames());
        });
    }

    @Test
    void aTxStepMethodCalledInsideAStepJoinsItsTransactionAndRecordsNoStepOfItsOwn() {
        run(service -> {
            String id = "wf-" + UUID.randomUUID();
            Workflow.run(id, service.writeWithAudit("joined", false)).block(Duration.ofSeconds(30));
            Workflow.run(id, service.writeWithAudit("joined", false)).block(Duration.ofSeconds(30));
            assertEquals(2, notes(), "the note and its audit, once");
            assertEquals(List.of("write-with-audit"), stepNames());
            assertThrows(IllegalStateException.class, () -> Workflow.run("wf-" + UUID.randomUUID(),
                    service.writeWithAudit("rolled back", true)).block(Duration.ofSeconds(30)));
            assertEquals(2, notes(), "the audit rolled back with the outer step");
        });
    }

    @Test
    void selfInvocationBypassesTheProxyAndRunsInsideTheCallersStep() {
        run(service -> {
            Workflow.run("wf-" + UUID.randomUUID(), service.writeTwiceThroughThis("self")).block(Duration.ofSeconds(30));
            assertEquals(2, notes());
            assertEquals(List.of("self-invoking"), stepNames(), "this.write(...) is not a step of its own");
        });
    }

    @Test
    void theAnnotationsIsolationAndReadOnlyReachTheTransaction() {
        run(service -> {
            assertEquals("read committed", service.isolation().block(Duration.ofSeconds(30)));
            assertThrows(RuntimeException.class, () -> Workflow.run("wf-" + UUID.randomUUID(),
                    service.writeReadOnly("refused")).block(Duration.ofSeconds(30)));
            assertEquals(0, notes());
            assertEquals(0, outputs(), "a read-only step records nothing");
        });
    }

    @Test
    void aBlockingTxStepMethodRunsOnceInABlockingWorkflowAndRollsBackOnFailure() {
        run(service -> {
            String id = "wf-" + UUID.randomUUID();
            long first = Workflow.runBlocking(id, () -> service.writeBlocking("blocking", false));
            long replayed = Workflow.runBlocking(id, () -> service.writeBlocking("blocking", false));
            assertEquals(first, replayed);
            assertThrows(IllegalStateException.class, () -> service.writeBlocking("rolled back", true));
            assertEquals(1, notes());
            assertEquals(List.of("write-blocking"), stepNames());
        });
    }

    @Test
    void startUpRefusesTxStepTogetherWithTransactional() {
        refused(TransactionalStep.class, "TransactionalStep.write(String)", "@Transactional");
    }

    @Test
    void startUpRefusesAFluxReturnType() {
        refused(FluxStep.class, "FluxStep.writeAll(String)", "returns Flux");
    }

    @Test
    void startUpRefusesMethodsAProxyCannotIntercept() {
        refused(PrivateStep.class, "PrivateStep.write(String)", "private");
        refused(FinalStep.class, "FinalStep.write(String)", "final");
    }

    private void refused(Class<?> bean, String method, String why) {
        runner.withBean(bean).run(context -> {
            assertThat(context).hasFailed();
            assertThat(context.getStartupFailure()).hasMessageContaining("@TxStep on ")
                    .hasMessageContaining(method).hasMessageContaining(why);
        });
    }

    static class TransactionalStep {
        @TxStep
        @Transactional
        public Mono<Long> write(String text) {
            return Mono.just(1L);
        }
    }

    static class FluxStep {
        @TxStep
        public Flux<Long> writeAll(String text) {
            return Flux.just(1L, 2L);
        }
    }

    static class PrivateStep {
        @TxStep
        private Mono<Long> write(String text) {
            return Mono.just(1L);
        }
    }

    static class FinalStep {
        @TxStep
        public final Mono<Long> write(String text) {
            return Mono.just(1L);
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class Services {
        @Bean
        NoteAudit noteAudit(NoteRepository notes) {
            return new NoteAudit(notes);
        }

        @Bean
        NoteService noteService(NoteRepository notes, DatabaseClient client, NoteAudit audit) {
            return new NoteService(notes, client, audit);
        }
    }

    private void run(ServiceTest test) {
        runner.withUserConfiguration(NotesConfiguration.class, Services.class).run(context -> {
            assertThat(context).hasNotFailed();
            TestDatabases.exec(URL, "CREATE TABLE \"" + schema + "\".notes (id BIGSERIAL PRIMARY KEY, text TEXT NOT NULL)");
            test.run(context.getBean(NoteService.class));
        });
    }

    @FunctionalInterface
    interface ServiceTest {
        void run(NoteService service) throws Exception;
    }

    private long notes() {
        return TestDatabases.queryLong(URL, "SELECT COUNT(*) FROM \"" + schema + "\".notes");
    }

    private long outputs() {
        return TestDatabases.queryLong(URL, "SELECT COUNT(*) FROM \"" + schema + "\".datasource_outputs");
    }

    private List<String> stepNames() throws Exception {
        try (var conn = TestDatabases.jdbc(URL); var rs = conn.createStatement().executeQuery(
                "SELECT step_name FROM \"" + schema + "\".datasource_outputs ORDER BY step_id")) {
            List<String> names = new java.util.ArrayList<>();
            while (rs.next()) {
                names.add(rs.getString(1));
            }
            return names;
        }
    }
}
