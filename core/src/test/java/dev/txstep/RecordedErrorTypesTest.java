package dev.txstep;

import static dev.txstep.testing.Workflows.inWorkflow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.txstep.serialization.JacksonSerializer;
import dev.txstep.serialization.Serializer;
import dev.txstep.testing.TestDatabases;
import dev.txstep.testing.TestSchema;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

/**
 * A recorded error names its type, and a replay rebuilds it as the cause of the
 * {@link RecordedStepException} — but only for types the serializer trusts (JDK types and what its
 * allow-list names), as for outputs: anyone who can write to the table could otherwise make txstep
 * load and initialize any class on the class path. A type it does not trust still replays, as a
 * {@code RecordedStepException} carrying the type's name and the message.
 */
class RecordedErrorTypesTest {

    /** Says, through a system property, that its class was initialized; never named before the check. */
    public static class Tripwire extends RuntimeException {
        private static final long serialVersionUID = 1L;

        static {
            System.setProperty("txstep.test.tripwire", "initialized");
        }

        public Tripwire(String message) {
            super(message);
        }
    }

    private static final String TRIPWIRE = RecordedErrorTypesTest.class.getName() + "$Tripwire";

    private final TestSchema db = new TestSchema(TestDatabases.postgresR2dbcUrl(), TestDatabases.uniqueSchema("err"));
    private AsyncDatasource ds;

    @AfterEach
    void close() {
        if (ds != null) {
            ds.close().block(Duration.ofSeconds(30));
        }
        db.drop();
    }

    @Test
    void onlyTrustedTypesAreRebuiltFromARecordedError() {
        ds = open(JacksonSerializer.create());
        String untrusted = recordError(TRIPWIRE, "planted");
        RecordedStepException replayed = replay(untrusted);
        assertEquals(TRIPWIRE, replayed.errorType());
        assertEquals("planted", replayed.errorMessage());
        assertNull(replayed.getCause(), "not rebuilt");
        assertNull(System.getProperty("txstep.test.tripwire"), "the class was not initialized");

        assertInstanceOf(IllegalStateException.class, replay(recordError("java.lang.IllegalStateException", "jdk"))
                .getCause(), "a JDK exception is rebuilt");
        assertNull(replay(recordError("java.lang.Thread", "not a throwable")).getCause());

        ds.close().block(Duration.ofSeconds(30));
        ds = open(JacksonSerializer.builder().allowPackages("dev.txstep").build());
        assertInstanceOf(Tripwire.class, replay(untrusted).getCause(), "allowed by the serializer: rebuilt");
    }

    private AsyncDatasource open(Serializer serializer) {
        return AsyncDatasource.create(DatasourceConfig.builder().url(db.url()).schema(db.name())
                .serializer(serializer).build()).block(Duration.ofSeconds(60));
    }

    /** Writes an error row as anyone with access to the table could; returns its workflow id. */
    private String recordError(String type, String message) {
        String id = "err-" + UUID.randomUUID();
        db.exec("INSERT INTO " + db.outputs() + " (workflow_id, step_id, step_name, output, error, serialization,"
                + " created_at) VALUES ('" + id + "', 0, 'failing', NULL, '{\"type\":\"" + type + "\",\"message\":\""
                + message + "\"}', 'jackson', 0)");
        return id;
    }

    private RecordedStepException replay(String workflowId) {
        Mono<String> step = ds.runTxStepAsync(DatasourceOptions.named("failing"), tx -> Mono.just("ran"));
        return assertThrows(RecordedStepException.class, () -> inWorkflow(workflowId, step).block(Duration.ofSeconds(30)));
    }
}
