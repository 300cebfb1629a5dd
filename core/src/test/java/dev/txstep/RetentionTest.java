package dev.txstep;

import static dev.txstep.testing.Workflows.inWorkflow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.txstep.testing.RecordingConnections;
import dev.txstep.testing.TestDatabases;
import dev.txstep.testing.TestSchema;
import io.r2dbc.spi.ConnectionFactories;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Schedulers;

/**
 * Retention on PostgreSQL at size: 100 000 old outputs pruned while a workflow keeps recording
 * steps. Every old row goes, every new one stays, every step commits exactly once, and the delete
 * finds its rows through the {@code created_at} index rather than a scan.
 */
class RetentionTest {

    private static final int OLD_ROWS = 100_000;
    private static final int STEPS = 300;

    private String url;
    private String schema;
    private AsyncDatasource ds;

    @BeforeEach
    void setUp() {
        url = TestDatabases.postgresR2dbcUrl();
        schema = TestDatabases.uniqueSchema("retention");
        ds = AsyncDatasource.create(DatasourceConfig.builder().url(url).schema(schema).maxPoolSize(4).build())
                .block(Duration.ofSeconds(30));
        db().createCounter();
        db().exec("INSERT INTO " + db().outputs() + " (workflow_id, step_id, step_name, output, serialization, created_at)"
                + " SELECT 'old-' || (g / 100), g % 100, 'old', '1', 'jackson', 1000 + g FROM generate_series(0, "
                + (OLD_ROWS - 1) + ") AS g");
        db().exec("ANALYZE " + db().outputs());
    }

    @AfterEach
    void tearDown() {
        if (ds != null) {
            ds.close().block(Duration.ofSeconds(30));
        }
        db().drop();
    }

    @Test
    void pruningOneHundredThousandRowsWhileStepsRun() throws Exception {
        String id = "wf-" + UUID.randomUUID();
        CompletableFuture<List<Long>> workflow = inWorkflow(id, Flux.range(0, STEPS)
                        .concatMap(i -> ds.runTxStepAsync(DatasourceOptions.named("s" + i),
                                s -> s.execute("UPDATE " + db().q("counter") + " SET n = n + 1 WHERE id = 1")))
                        .collectList())
                .subscribeOn(Schedulers.parallel())
                .toFuture();
        long started = System.nanoTime();
        long deleted = ds.pruneOlderThan(Duration.ofMinutes(10)).block(Duration.ofMinutes(2));
        long pruneMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
        List<Long> outputs = workflow.get(2, TimeUnit.MINUTES);

        assertEquals(OLD_ROWS, deleted);
        assertEquals(STEPS, outputs.size());
        assertEquals(STEPS, db().counter(), "every step committed once");
        assertEquals(STEPS, db().count("SELECT COUNT(*) FROM " + db().outputs()), "only the new outputs are left");
        assertEquals(STEPS, db().count("SELECT COUNT(*) FROM " + db().outputs() + " WHERE workflow_id = '" + id + "'"));
        System.out.println("[retention] pruned " + deleted + " rows in " + pruneMillis + " ms while " + STEPS
                + " steps ran");
    }

    @Test
    void theAgeDeleteUsesTheCreatedAtIndex() throws Exception {
        // The statement txstep really sends, recorded on the way to the server: a cut-off before
        // every row, so that nothing is deleted and the planner sees the table as set up.
        RecordingConnections recording = RecordingConnections.wrap(ConnectionFactories.get(url));
        AsyncDatasource pruner = AsyncDatasource.create(DatasourceConfig.builder().connectionFactory(recording)
                .migrate(false).schema(schema).build()).block(Duration.ofSeconds(30));
        try {
            assertEquals(0L, pruner.pruneOlderThan(Duration.ofMillis(System.currentTimeMillis())).block());
        } finally {
            pruner.close().block(Duration.ofSeconds(30));
        }
        List<String> deletes = recording.statements().stream().filter(sql -> sql.startsWith("DELETE")).toList();
        assertEquals(1, deletes.size(), recording.statements().toString());

        String plan;
        try (var c = TestDatabases.jdbc(url); Statement st = c.createStatement()) {
            // The planner may prefer a scan on a table this small; with scans priced out, a plan
            // without the index means the statement cannot use it.
            st.execute("SET enable_seqscan = off");
            st.execute("PREPARE age_delete AS " + deletes.get(0));
            try (ResultSet rs = st.executeQuery("EXPLAIN EXECUTE age_delete(5000)")) {
                StringBuilder text = new StringBuilder();
                while (rs.next()) {
                    text.append(rs.getString(1)).append('\n');
                }
                plan = text.toString();
            }
        }
        assertTrue(plan.contains("datasource_outputs_created_at"), deletes.get(0) + "\n" + plan);
    }

    private TestSchema db() {
        return new TestSchema(url, schema);
    }
}
