package dev.txstep;

import static dev.txstep.testing.Workflows.inWorkflow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.txstep.observe.StepEvent;
import dev.txstep.observe.StepObserver;
import dev.txstep.observe.StepOutcome;
import dev.txstep.spi.JdbcCoordinates;
import dev.txstep.testing.AcknowledgementFailingConnections;
import dev.txstep.testing.TestDatabases;
import dev.txstep.testing.TestSchema;
import io.r2dbc.pool.ConnectionPool;
import io.r2dbc.pool.ConnectionPoolConfiguration;
import io.r2dbc.spi.ConnectionFactories;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import reactor.core.publisher.Mono;

/**
 * A commit that landed on the database, then failed on the client with an error that is neither a
 * refusal by the database nor a lost connection (a driver error without SQLSTATE, say): the
 * client cannot know whether it committed. In a workflow the step reads its own row before
 * deciding, and returns the recorded outcome: the caller sees the output, not the error, and the
 * step counts as executed. Outside a workflow nothing can tell, and the caller is told so. On
 * every database: PostgreSQL sends the output row with {@code COMMIT} in one batch, H2 and
 * MariaDB call {@code commitTransaction()}.
 */
class UnknownCommitOutcomeTest {

    private AcknowledgementFailingConnections connections;
    private ConnectionPool pool;
    private AsyncDatasource ds;
    private TestSchema db;
    private final List<StepEvent> events = new CopyOnWriteArrayList<>();

    private void open(String database) {
        String url = switch (database) {
            case "postgresql" -> TestDatabases.postgresR2dbcUrl();
            case "mariadb" -> TestDatabases.mariadbR2dbcUrl();
            default -> TestDatabases.h2R2dbcUrl();
        };
        db = new TestSchema(url, TestDatabases.uniqueSchema("ack"));
        connections = AcknowledgementFailingConnections.wrap(ConnectionFactories.get(url),
                () -> new IllegalStateException("the driver lost its place in the protocol"));
        pool = new ConnectionPool(ConnectionPoolConfiguration.builder(connections).initialSize(1).maxSize(4).build());
        JdbcCoordinates jdbc = JdbcCoordinates.derivedFrom(url);
        String jdbcUrl = database.equals("postgresql") ? TestDatabases.postgresJdbcUrl() : jdbc.url();
        ds = AsyncDatasource.create(DatasourceConfig.builder().connectionFactory(pool).jdbcUrl(jdbcUrl)
                .jdbcCredentials(jdbc.user(), jdbc.password()).schema(db.name()).observer(new StepObserver() {
                    @Override
                    public void stepFinished(StepEvent event) {
                        events.add(event);
                    }
                }).build()).block(Duration.ofSeconds(60));
        db.createCounter();
    }

    @AfterEach
    void close() {
        if (ds != null) {
            ds.close().block(Duration.ofSeconds(30));
            pool.dispose();
            db.drop();
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"postgresql", "h2", "mariadb"})
    void inAWorkflowAStepWhoseCommitLandedReturnsItsRecordedOutputNotTheError(String database) {
        open(database);
        String id = "ack-" + UUID.randomUUID();
        AtomicInteger calls = new AtomicInteger();
        Mono<Integer> bump = ds.runTxStepAsync(DatasourceOptions.named("bump"), s -> {
            calls.incrementAndGet();
            return s.execute("UPDATE " + db.q("counter") + " SET n = n + 1 WHERE id = 1")
                    .then(s.query("SELECT n FROM " + db.q("counter") + " WHERE id = 1",
                            (row, meta) -> row.get(0, Integer.class)).single());
        });

        connections.failNextCommits(1);
        assertEquals(1, inWorkflow(id, bump).block(Duration.ofSeconds(30)));

        assertEquals(1, connections.failedCommits(), "the commit landed and then failed");
        assertEquals(1, calls.get(), "the function ran once");
        assertEquals(1, db.counter(), "its effect happened once");
        assertEquals(1, db.count("SELECT COUNT(*) FROM " + db.outputs() + " WHERE workflow_id = '" + id
                + "' AND error IS NULL"), "its output is recorded, and no error");
        assertEquals(StepOutcome.EXECUTED, events.get(events.size() - 1).outcome());

        assertEquals(1, inWorkflow(id, bump).block(Duration.ofSeconds(30)), "a replay returns the same output");
        assertEquals(1, calls.get());
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"postgresql", "h2", "mariadb"})
    void outsideAWorkflowTheCallerIsToldTheOutcomeIsUnknown(String database) {
        open(database);
        connections.failNextCommits(1);
        DatasourceException unknown = assertThrows(DatasourceException.class, () -> ds.runTxStepAsync(
                DatasourceOptions.named("plain"),
                s -> s.execute("UPDATE " + db.q("counter") + " SET n = n + 1 WHERE id = 1")).block(Duration.ofSeconds(30)));
        assertTrue(unknown.getMessage().contains("unknown"), unknown.getMessage());
        assertInstanceOf(IllegalStateException.class, unknown.getCause());
        assertEquals(1, db.counter(), "it had committed: not retried, so not applied twice");
    }
}
