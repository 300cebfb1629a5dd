package dev.txstep.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.txstep.examples.QuickStart.Settings;
import dev.txstep.examples.QuickStart.Summary;
import dev.txstep.testing.TestDatabases;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Runs the quick start on H2 and on PostgreSQL and checks what it stored by counting rows over
 * JDBC, independently of what the program reports about itself. Each test uses its own workflow id
 * and, on PostgreSQL, its own schema, so reruns and parallel builds do not collide.
 */
class QuickStartTest {

    private static final List<String> STEPS = List.of("reserveStock", "chargeAccount", "recordShipment");
    private static final Pattern STEP_LINE = Pattern.compile("(?m)^\\s+(\\w+)\\s+(RAN|REPLAYED)\\s+output: ");

    @Test
    void runsExactlyOnceOnH2() {
        checkQuickStart(TestDatabases.h2R2dbcUrl(), QuickStart.DEFAULT_SCHEMA);
    }

    @Test
    void runsExactlyOnceOnPostgres() {
        String url = TestDatabases.postgresR2dbcUrl();
        String schema = TestDatabases.uniqueSchema("quickstart");
        try {
            checkQuickStart(url, schema);
        } finally {
            TestDatabases.exec(url, "DROP SCHEMA IF EXISTS \"" + schema + "\" CASCADE");
        }
    }

    @Test
    void mainPrintsTheRunsAndTheSummary() {
        String url = TestDatabases.h2R2dbcUrl();
        String workflowId = workflowId();
        PrintStream original = System.out;
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        System.setOut(new PrintStream(bytes, true, StandardCharsets.UTF_8));
        try {
            QuickStart.main(new String[] {"--url", url, "--workflow-id", workflowId});
        } finally {
            System.setOut(original);
        }
        String printed = bytes.toString(StandardCharsets.UTF_8);
        assertStepLines(printed, "RAN", "REPLAYED");
        assertTrue(printed.contains("Summary: run 1 called 3 step functions, run 2 called 0; results equal: true"),
                printed);
        assertEquals(1, rows(url, QuickStart.DEFAULT_SCHEMA, "orders", "order_id", workflowId));
    }

    /** Two runs in one process, then a run by a new datasource, as after a restart. */
    private static void checkQuickStart(String url, String schema) {
        String workflowId = workflowId();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        Summary summary = QuickStart.run(new Settings(url, schema, workflowId),
                new PrintStream(bytes, true, StandardCharsets.UTF_8)).block(Duration.ofSeconds(60));
        String printed = bytes.toString(StandardCharsets.UTF_8);

        // What the program says about itself...
        assertEquals(3, summary.functionsRun1(), printed);
        assertEquals(0, summary.functionsRun2(), printed);
        assertEquals(summary.firstRun(), summary.secondRun());
        assertTrue(summary.secondRunReplayedEverything());
        assertEquals(List.of(1, 1, 1, 3), List.of(summary.orderRows(), summary.paymentRows(), summary.shipmentRows(),
                summary.recordedSteps()));
        assertStepLines(printed, "RAN", "REPLAYED");
        assertTrue(printed.contains("datasource_outputs"), printed);

        // ...and what the database holds: each step's effect exactly once, each step recorded once.
        assertStored(url, schema, workflowId, summary);

        // A new datasource (a restarted process) running the same workflow id replays all three steps.
        ByteArrayOutputStream again = new ByteArrayOutputStream();
        Summary rerun = QuickStart.run(new Settings(url, schema, workflowId),
                new PrintStream(again, true, StandardCharsets.UTF_8)).block(Duration.ofSeconds(60));
        assertEquals(0, rerun.functionsRun1(), again.toString(StandardCharsets.UTF_8));
        assertEquals(0, rerun.functionsRun2());
        assertEquals(summary.firstRun(), rerun.firstRun());
        assertStepLines(again.toString(StandardCharsets.UTF_8), "REPLAYED", "REPLAYED");
        assertStored(url, schema, workflowId, summary);
    }

    private static void assertStored(String url, String schema, String workflowId, Summary summary) {
        assertEquals(1, rows(url, schema, "orders", "order_id", workflowId));
        assertEquals(1, TestDatabases.queryLong(url, "SELECT COUNT(*) FROM " + table(schema, "orders")
                + " WHERE order_id = '" + workflowId + "' AND status = 'SHIPPED' AND quantity = 2"));
        assertEquals(1, rows(url, schema, "payments", "order_id", workflowId));
        // The payment id the workflow returned is the one that was written: the step's output and its
        // effect come from the same (single) execution.
        assertEquals(1, rows(url, schema, "payments", "payment_id", summary.firstRun().paymentId()));
        assertEquals(1, rows(url, schema, "shipments", "order_id", workflowId));
        assertEquals(1, rows(url, schema, "shipments", "tracking_number", summary.firstRun().trackingNumber()));

        assertEquals(3, rows(url, schema, "datasource_outputs", "workflow_id", workflowId));
        for (int stepId = 0; stepId < STEPS.size(); stepId++) {
            assertEquals(1, TestDatabases.queryLong(url, "SELECT COUNT(*) FROM " + table(schema, "datasource_outputs")
                    + " WHERE workflow_id = '" + workflowId + "' AND step_id = " + stepId
                    + " AND step_name = '" + STEPS.get(stepId) + "' AND error IS NULL"), "step " + stepId);
        }
    }

    /** Each step printed once with the first word, then once with the second, in step order. */
    private static void assertStepLines(String printed, String firstRun, String secondRun) {
        Matcher m = STEP_LINE.matcher(printed);
        int i = 0;
        while (m.find()) {
            assertEquals(STEPS.get(i % 3), m.group(1), printed);
            assertEquals(i < 3 ? firstRun : secondRun, m.group(2), printed);
            i++;
        }
        assertEquals(6, i, printed);
    }

    private static long rows(String url, String schema, String table, String column, String value) {
        return TestDatabases.queryLong(url, "SELECT COUNT(*) FROM " + table(schema, table)
                + " WHERE " + column + " = '" + value + "'");
    }

    private static String table(String schema, String name) {
        return "\"" + schema + "\"." + name;
    }

    private static String workflowId() {
        return "order-test-" + UUID.randomUUID();
    }
}
