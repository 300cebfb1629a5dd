package dev.txstep;

import static dev.txstep.testing.Workflows.inWorkflow;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.txstep.spi.JdbcCoordinates;
import dev.txstep.testing.TestDatabases;
import dev.txstep.testing.TestSchema;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * On PostgreSQL txstep prepares its two statements on a step's path (the first step's load of
 * recorded ids, the output insert) on each pooled connection the second time a step takes it, and
 * executes them by name from then on. The cache is an optimization only: if the server loses the
 * statements, the attempt that finds out fails before committing, is retried, and the datasource
 * goes on unprepared — no effect twice, no row twice.
 */
class PreparedStatementsTest {

    /** txstep's prepared statements on the step's own connection. */
    private static final String PREPARED = "SELECT name FROM pg_prepared_statements WHERE name LIKE 'txstep%' ORDER BY name";

    private final TestSchema db = new TestSchema(TestDatabases.postgresR2dbcUrl(), TestDatabases.uniqueSchema("prep"));
    private AsyncDatasource ds;

    @BeforeEach
    void open() {
        JdbcCoordinates jdbc = JdbcCoordinates.derivedFrom(db.url());
        // One connection, so that every step takes the same one.
        ds = AsyncDatasource.create(DatasourceConfig.builder().url(db.url()).maxPoolSize(1).initialPoolSize(1)
                .jdbcUrl(TestDatabases.postgresJdbcUrl()).jdbcCredentials(jdbc.user(), jdbc.password())
                .schema(db.name()).build()).block(Duration.ofSeconds(60));
        db.exec("CREATE TABLE " + db.q("effects") + " (workflow_id text, step_id int, PRIMARY KEY (workflow_id, step_id))");
    }

    @AfterEach
    void close() {
        ds.close().block(Duration.ofSeconds(30));
        db.drop();
    }

    /** A step that records its effect and returns the names of txstep's statements prepared on its connection. */
    private Mono<String> step(String workflowId, int stepId, AtomicInteger calls) {
        return ds.runTxStepAsync(DatasourceOptions.named("s" + stepId), String.class, tx -> {
            calls.incrementAndGet();
            return tx.execute("INSERT INTO " + db.q("effects") + " VALUES ($1, $2)", workflowId, stepId)
                    .then(tx.query(PREPARED, (row, meta) -> row.get(0, String.class)).collectList())
                    .map(names -> String.join(",", names));
        });
    }

    @Test
    void aReusedConnectionExecutesThePreparedStatementsAndRecordsTheSameRows() {
        String id = "prep-" + UUID.randomUUID();
        AtomicInteger calls = new AtomicInteger();
        // The pool's warm-up took the connection once; the migration and probe do not count as steps.
        List<String> seen = inWorkflow(id, Flux.range(0, 3).concatMap(i -> step(id, i, calls)).collectList())
                .block(Duration.ofSeconds(30));

        String both = seen.get(2);
        assertEquals(2, both.split(",").length, "both statements prepared by the third step: " + seen);
        // A replay reads what the prepared insert wrote, through the prepared load.
        assertEquals(seen, inWorkflow(id, Flux.range(0, 3).concatMap(i -> step(id, i, calls)).collectList())
                .block(Duration.ofSeconds(30)));
        assertEquals(3, calls.get());
        assertEquals(3, db.count("SELECT COUNT(*) FROM " + db.outputs() + " WHERE workflow_id = '" + id
                + "' AND step_name LIKE 's_' AND serialization = 'jackson' AND error IS NULL"));
    }

    @Test
    void statementsLostBehindTxstepsBackCostOneRetryAndNothingRunsTwice() {
        String id = "prep-" + UUID.randomUUID();
        AtomicInteger calls = new AtomicInteger();
        inWorkflow(id, Flux.range(0, 2).concatMap(i -> step(id, i, calls)).then()).block(Duration.ofSeconds(30));
        String prepared = inWorkflow("other-" + id, step("other-" + id, 0, new AtomicInteger()))
                .block(Duration.ofSeconds(30));
        assertEquals(2, prepared.split(",").length, prepared);

        // Step 2 drops txstep's statements on its own connection; then its commit executes the insert.
        String deallocate = "DO $$ DECLARE n text; BEGIN FOR n IN SELECT name FROM pg_prepared_statements"
                + " WHERE name LIKE 'txstep%' LOOP EXECUTE 'DEALLOCATE ' || n; END LOOP; END $$";
        AtomicInteger stepTwoCalls = new AtomicInteger();
        Mono<String> stepTwo = ds.runTxStepAsync(DatasourceOptions.named("s2"), String.class, tx -> {
            stepTwoCalls.incrementAndGet();
            return tx.execute(deallocate)
                    .then(tx.execute("INSERT INTO " + db.q("effects") + " VALUES ($1, $2)", id, 2))
                    .thenReturn("two");
        });
        // Steps 0 and 1 replay (their ids were loaded as the execution began), step 2 runs, step 3 after it.
        List<String> outputs = inWorkflow(id, Flux.range(0, 2).concatMap(i -> step(id, i, calls))
                .concatWith(stepTwo).concatWith(step(id, 3, calls)).collectList())
                .block(Duration.ofSeconds(30));

        assertEquals("two", outputs.get(2));
        assertEquals(2, stepTwoCalls.get(), "the attempt that found the statement missing ran again");
        assertEquals("", outputs.get(3), "after a loss the datasource prepares nothing more");
        assertEquals(4, db.count("SELECT COUNT(*) FROM " + db.q("effects") + " WHERE workflow_id = '" + id + "'"));
        assertEquals(1, db.count("SELECT COUNT(*) FROM " + db.q("effects") + " WHERE workflow_id = '" + id
                + "' AND step_id = 2"));
        assertEquals(4, db.count("SELECT COUNT(*) FROM " + db.outputs() + " WHERE workflow_id = '" + id + "'"));
    }
}
