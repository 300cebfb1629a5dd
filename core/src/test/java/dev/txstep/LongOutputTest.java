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
 * On PostgreSQL an output of 8 KiB or more is written by a bound {@code INSERT} and then
 * {@code COMMIT}. r2dbc-postgresql prepares that INSERT once per connection and caches it; when
 * the server no longer has it, the driver prepares it again and resends it. Whatever a step's
 * function does to the driver's statements, its output row must never be recorded without its
 * effects, nor its effects committed twice. Today the driver resends inside the aborted
 * transaction and the step fails unrecorded; a driver (or a txstep) that sent the {@code COMMIT}
 * before the resent INSERT would record the row alone, and the counts here would say so.
 */
class LongOutputTest {

    /** Longer than OutputInserts.BOUND_FROM_CHARS once serialized. */
    private static final String LONG = "x".repeat(20_000);

    private final TestSchema db = new TestSchema(TestDatabases.postgresR2dbcUrl(), TestDatabases.uniqueSchema("long"));
    private AsyncDatasource ds;

    @BeforeEach
    void open() {
        JdbcCoordinates jdbc = JdbcCoordinates.derivedFrom(db.url());
        // One connection, so that every step takes the one whose cached INSERT the function drops.
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

    /** The driver's statements (not prepared by SQL) that insert into the output table. */
    private static final String DRIVERS_INSERT = "FROM pg_prepared_statements WHERE NOT from_sql"
            + " AND statement LIKE 'INSERT INTO %datasource_outputs%'";

    /**
     * A step that records its effect and returns a long output; if {@code dropped} is given, its
     * first call then drops the driver's cached output insert and adds how many it dropped.
     */
    private Mono<String> step(String workflowId, int stepId, AtomicInteger dropped) {
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
    void aStepThatDropsTheDriversCachedInsertIsNeverRecordedWithoutItsEffect() {
        String id = "long-" + UUID.randomUUID();
        AtomicInteger dropped = new AtomicInteger();
        // Step 0 makes the driver prepare the bound INSERT on the connection; step 1's first call drops it.
        Mono<List<String>> workflow = Flux.concat(step(id, 0, null), step(id, 1, dropped)).collectList();

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
