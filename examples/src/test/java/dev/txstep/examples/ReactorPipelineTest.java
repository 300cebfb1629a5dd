package dev.txstep.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.txstep.examples.ReactorPipeline.Settings;
import dev.txstep.examples.ReactorPipeline.Summary;
import dev.txstep.testing.TestDatabases;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.RepetitionInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs the pipeline example — child process killed with SIGKILL half-way, workflow resumed — on a
 * file-backed H2 database and on PostgreSQL, and counts the shipments over JDBC: one per order,
 * stock taken once per order, one recorded output per order.
 */
class ReactorPipelineTest {

    private static final int ORDERS = 40;

    @TempDir
    Path dir;

    /**
     * Twenty times over, because H2 failed here only now and then: a thread interrupted inside H2
     * closed its file (a retried step, or "Reading from file … failed" for the rest of the run).
     */
    @RepeatedTest(20)
    void killedAndResumedOnAFileBackedH2ShipsEveryOrderOnce(RepetitionInfo run) throws Exception {
        String url = "r2dbc:h2:file:///" + dir.resolve("db" + run.getCurrentRepetition()).toAbsolutePath().toString()
                .replace('\\', '/') + ";WRITE_DELAY=0"; // durable commits: see ReactorPipeline.freshH2File
        Summary summary = check(url, ReactorPipeline.DEFAULT_SCHEMA);
        assertEquals(ORDERS, summary.shippedBeforeKill() + summary.ranOnResume(), summary.toString());
    }

    @Test
    void killedAndResumedOnPostgresShipsEveryOrderOnce() throws Exception {
        String url = TestDatabases.postgresR2dbcUrl();
        String schema = TestDatabases.uniqueSchema("pipeline");
        try {
            Summary summary = check(url, schema);
            // The resume ran exactly what the killed run had not committed.
            assertEquals(ORDERS, summary.shippedBeforeKill() + summary.ranOnResume(), summary.toString());
        } finally {
            TestDatabases.exec(url, "DROP SCHEMA IF EXISTS \"" + schema + "\" CASCADE");
        }
    }

    private Summary check(String url, String schema) throws Exception {
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        Summary summary = ReactorPipeline.demo(new Settings(url, schema, ORDERS, 15),
                new PrintStream(printed, true, StandardCharsets.UTF_8));
        String text = printed.toString(StandardCharsets.UTF_8);
        assertTrue(summary.shippedBeforeKill() < ORDERS, "killed before the end: " + text);
        assertTrue(summary.ranOnResume() > 0 && summary.ranOnResume() < ORDERS, "the resume ran only the rest: " + text);
        assertTrue(summary.exactlyOnce(), summary + "\n" + text);

        // Counted independently of the program's own report.
        String q = "\"" + schema + "\".";
        assertEquals(ORDERS, TestDatabases.queryLong(url, "SELECT COUNT(*) FROM " + q + "shipments"));
        assertEquals(ORDERS, TestDatabases.queryLong(url, "SELECT COUNT(DISTINCT order_no) FROM " + q + "shipments"));
        assertEquals(summary.unitsOrdered(), TestDatabases.queryLong(url, "SELECT 50000 - SUM(units) FROM " + q + "stock"));
        assertEquals(ORDERS, TestDatabases.queryLong(url, "SELECT COUNT(*) FROM " + q + "datasource_outputs"
                + " WHERE workflow_id = '" + summary.workflowId() + "'"));
        return summary;
    }
}
