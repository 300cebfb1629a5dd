package dev.txstep;

import static dev.txstep.testing.Workflows.inWorkflow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.txstep.spi.JdbcCoordinates;
import dev.txstep.testing.RecordingConnections;
import dev.txstep.testing.TestDatabases;
import dev.txstep.testing.TestSchema;
import io.r2dbc.spi.ConnectionFactories;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

/**
 * The first step of a workflow execution at SERIALIZABLE (the default, and the idempotent
 * request's one step) on PostgreSQL: its read of the workflow's recorded ids must never run inside
 * the step's SERIALIZABLE transaction, where it would take predicate (SIRead) locks on the output
 * table that turn concurrent steps into serialization failures — and it should not cost a round
 * trip of its own either. It runs in a READ ONLY transaction of its own, committed, then the
 * step's transaction begins: four statements, one message.
 */
class SerializableFirstStepTest {

    private final TestSchema db = new TestSchema(TestDatabases.postgresR2dbcUrl(), TestDatabases.uniqueSchema("ser"));
    private RecordingConnections recording;
    private AsyncDatasource ds;

    @BeforeEach
    void open() {
        recording = RecordingConnections.wrap(ConnectionFactories.get(db.url()));
        JdbcCoordinates jdbc = JdbcCoordinates.derivedFrom(db.url());
        ds = AsyncDatasource.create(DatasourceConfig.builder().connectionFactory(recording)
                .jdbcUrl(TestDatabases.postgresJdbcUrl()).jdbcCredentials(jdbc.user(), jdbc.password())
                .schema(db.name()).build()).block(Duration.ofSeconds(60));
    }

    @AfterEach
    void close() {
        ds.close().block(Duration.ofSeconds(30));
        db.drop();
    }

    @Test
    void aOneStepWorkflowReadsItsRecordsOutsideItsSerializableTransactionInTheSameMessageAsItsBegin() {
        String id = "ser-" + UUID.randomUUID();
        AtomicInteger calls = new AtomicInteger();
        // The step reports its own backend's predicate locks on the output table, and its level.
        Mono<String> step = ds.runTxStepAsync(DatasourceOptions.named("only"), String.class, tx -> {
            calls.incrementAndGet();
            return tx.query("SELECT (SELECT COUNT(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation"
                    + " WHERE l.mode = 'SIReadLock' AND l.pid = pg_backend_pid() AND c.relname LIKE 'datasource_outputs%')"
                    + " || ' ' || current_setting('transaction_isolation')", (row, meta) -> row.get(0, String.class))
                    .single();
        });
        int statementsBefore = recording.statements().size();

        assertEquals("0 serializable", inWorkflow(id, step).block(Duration.ofSeconds(30)),
                "no predicate lock on the output table, and the step ran at SERIALIZABLE");

        List<String> loads = recording.messages().stream().filter(b -> b.contains("SELECT step_id")).toList();
        assertEquals(1, loads.size(), recording.messages().toString());
        String load = loads.get(0);
        assertTrue(load.startsWith("BEGIN ISOLATION LEVEL READ COMMITTED READ ONLY; SELECT step_id")
                && load.endsWith("; COMMIT; BEGIN ISOLATION LEVEL SERIALIZABLE"), load);
        assertTrue(recording.statements().subList(statementsBefore, recording.statements().size()).stream()
                .noneMatch(sql -> sql.startsWith("SELECT step_id")), "the load is not a message of its own");

        // A replay finds the step recorded in the same message, rolls back the transaction it began
        // and returns the recorded output.
        assertEquals("0 serializable", inWorkflow(id, step).block(Duration.ofSeconds(30)));
        assertEquals(1, calls.get());
        assertEquals(1, db.count("SELECT COUNT(*) FROM " + db.outputs() + " WHERE workflow_id = '" + id + "'"));
    }
}
