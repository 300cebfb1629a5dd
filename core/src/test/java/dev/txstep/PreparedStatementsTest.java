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
 *
 * <p>An output of 8 KiB or more is written by a bound {@code INSERT} and then {@code COMMIT}
 * instead, a statement r2dbc-postgresql prepares once per connection and caches; when the server
 * no longer has it, the driver prepares it again and resends it. Today it resends inside the
 * aborted transaction and the step fails unrecorded; a driver (or a txstep) that sent the
 * {@code COMMIT} before the resent INSERT would record the row without its effects, and the
 * counts here would say so.
 */
class PreparedStatementsTest {

    /** txstep's prepared statements on the step's own connection. */
    private static final String PREPARED = "SELECT name FROM pg_prepared_statements WHERE name LIKE 'txstep%' ORDER BY name";
    /** The driver's statements (not prepared by SQL) that insert into the output table. */
    private static final String DRIVERS_INSERT = "FROM pg_prepared_statements WHERE NOT from_sql"
            + " AND statement LIKE 'INSERT INTO %datasource_outputs%'";
    /** Longer than OutputInserts.BOUND_FROM_CHARS once serialized: written by a bound INSERT. */
    private static final String LONG = "x".repeat(20_000);

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

    /**
     * A step that records its effect and returns a long output; if {@code dropped} is given, its
     * first call then drops the driver's cached output insert and adds how many it dropped.
     */
    private Mono<String> longStep(String workflowId, int stepId, AtomicInteger dropped) {
        AtomicInteger calls = new AtomicInteger();
        return ds.runTxStepAsync(DatasourceOptions.named("s" + stepId), String.class, tx -> {
            Mono<Long> effect = tx.execute("INSERT INTO " + db.q("effects") + " VALUES ($1, $2)", workflowId, stepId);
            if (dropped == null || calls.getAndIncrement() > 0) {
                return effect.thenReturn(LONG);
            }
            return effect.then(tx.query("SELECT COUNT(*) " + DRIVERS_INSERT, (row, meta) -> row.get(0, Long.class)).single())
                    .doOnNext(n -> dropped.addAndGet(n.intValue()))
                    .then(tx.execute("DO $$ DECLARE n text; BEGIN FOR n IN SELECT name " + DRIVERS_INSERT
                            + " LOOP EXECUTE 'DEALLOCATE ' || quote_ident(n); END LOOP; END $$"))
                    .thenReturn(LONG);
        });
    }

    private long effects(String workflowId, int stepId) {
        return db.count("SELECT COUNT(*) FROM " + db.q("effects") + " WHERE workflow_id = '" + workflowId
                + "' AND step_id = " + stepId);
    }

    private long rows(String workflowId, int stepId) {
        return db.count("SELECT COUNT(*) FROM " + db.outputs() + " WHERE workflow_id = '" + workflowId
                + "' AND step_id = " + stepId);
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
        assertEquals(1, effects(id, 2));
        assertEquals(4, db.count("SELECT COUNT(*) FROM " + db.outputs() + " WHERE workflow_id = '" + id + "'"));
    }

    @Test
    void aStepThatDropsTheDriversCachedInsertIsNeverRecordedWithoutItsEffect() {
        String id = "long-" + UUID.randomUUID();
        AtomicInteger dropped = new AtomicInteger();
        // Step 0 makes the driver prepare the bound INSERT on the connection; step 1's first call drops it.
        Mono<List<String>> workflow = Flux.concat(longStep(id, 0, null), longStep(id, 1, dropped)).collectList();

        try {
            inWorkflow(id, workflow).block(Duration.ofSeconds(30));
        } catch (RuntimeException failed) {
            // Failing is allowed (the driver's second try meets the aborted transaction);
            // committing half of the step is not, as the counts below say.
        }
        assertEquals(1, dropped.get(), "the driver's cached insert was there to drop");
        assertEquals(effects(id, 1), rows(id, 1), "step 1: its row and its effect committed together or not at all");

        // Run again, the workflow runs to its end: every step committed once, with its row.
        assertEquals(List.of(LONG, LONG), inWorkflow(id, workflow).block(Duration.ofSeconds(30)));
        for (int stepId = 0; stepId < 2; stepId++) {
            assertEquals(1, effects(id, stepId), "effects of step " + stepId);
            assertEquals(1, rows(id, stepId), "rows of step " + stepId);
        }
    }
}
