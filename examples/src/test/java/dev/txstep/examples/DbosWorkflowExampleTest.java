package dev.txstep.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.txstep.examples.DbosWorkflowExample.Receipt;
import dev.txstep.examples.DbosWorkflowExample.Settings;
import dev.txstep.examples.DbosWorkflowExample.Summary;
import dev.txstep.spi.JdbcCoordinates;
import dev.txstep.testing.TestDatabases;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs {@link DbosWorkflowExample} on PostgreSQL — a schema and a DBOS system database of its own
 * per test — and checks what it stored by reading both databases over JDBC: each step's effect
 * once, txstep's records keyed by DBOS's step ids. The second test halts a run in a child JVM
 * after txstep committed step {@code credit} and before DBOS recorded it, as the class comment's
 * two commands do, and lets the next run recover it.
 */
class DbosWorkflowExampleTest {

    private static final Pattern DATABASE = Pattern.compile("^(jdbc:postgresql://[^/?]+/)([^?]*)(.*)$");

    @TempDir
    Path dir;

    private String url;
    private String schema;
    private String systemDb;
    private String systemDbUrl;
    private String user;
    private String password;

    @BeforeEach
    void setUp() {
        url = TestDatabases.postgresR2dbcUrl();
        schema = TestDatabases.uniqueSchema("dbos_example");
        // DBOS creates its system database at its first launch; the test only names a fresh one.
        systemDb = TestDatabases.uniqueSchema("txstep_dbos");
        Matcher m = DATABASE.matcher(TestDatabases.postgresJdbcUrl());
        assertTrue(m.matches(), TestDatabases.postgresJdbcUrl());
        systemDbUrl = m.group(1) + systemDb + m.group(3);
        JdbcCoordinates server = JdbcCoordinates.derivedFrom(url);
        user = server.user() == null ? "postgres" : server.user();
        password = server.password() == null ? "" : server.password();
    }

    @AfterEach
    void tearDown() {
        TestDatabases.exec(url, "DROP SCHEMA IF EXISTS \"" + schema + "\" CASCADE");
        TestDatabases.exec(url, "DROP DATABASE IF EXISTS " + systemDb + " WITH (FORCE)");
    }

    @Test
    void transfersOnceWithTxstepStepsKeyedByDbos() throws SQLException {
        String workflowId = "transfer-test-" + UUID.randomUUID();
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        Summary summary = DbosWorkflowExample.run(settings(workflowId, null),
                new PrintStream(printed, true, StandardCharsets.UTF_8));
        String out = printed.toString(StandardCharsets.UTF_8);

        // What the program says about itself...
        assertEquals(List.of("debit RAN", "credit RAN", "receipt RAN"), summary.steps(), out);
        assertEquals(summary.receipt(), summary.again());
        assertEquals(0, summary.functionsAgain());
        assertEquals(new Receipt(workflowId, 99_750, 250, summary.receipt().receiptId()), summary.receipt());
        assertTrue(out.contains("datasource_outputs"), out);

        // ...and what the two databases hold.
        assertStored(workflowId, summary.receipt());
    }

    @Test
    void aRunHaltedBetweenTxstepsCommitAndDbosRecordIsRecoveredByTheNextRun() throws Exception {
        String workflowId = "transfer-test-" + UUID.randomUUID();
        Path log = dir.resolve("crashed-run.log");
        Process crashed = startExample(log, settings(workflowId, "credit"));
        if (!crashed.waitFor(120, TimeUnit.SECONDS)) {
            crashed.destroyForcibly();
            fail("the crashing run did not stop:\n" + Files.readString(log));
        }
        assertEquals(DbosWorkflowExample.CRASH_EXIT_STATUS, crashed.exitValue(), Files.readString(log));
        // It stopped where it says: credit committed by txstep, not recorded by DBOS.
        assertEquals(List.of("0:debit", "1:credit"), strings(url, "SELECT step_id || ':' || step_name FROM "
                + table("datasource_outputs") + " WHERE workflow_id = ? ORDER BY step_id", workflowId));
        assertEquals(List.of("0:debit"), dbosSteps(workflowId));

        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        Summary summary = DbosWorkflowExample.run(settings(workflowId, null),
                new PrintStream(printed, true, StandardCharsets.UTF_8));

        assertEquals(List.of("debit REPLAYED from DBOS's record", "credit REPLAYED from txstep's record",
                "receipt RAN"), summary.steps(), printed.toString(StandardCharsets.UTF_8));
        assertEquals(new Receipt(workflowId, 99_750, 250, summary.receipt().receiptId()), summary.receipt());
        assertStored(workflowId, summary.receipt());
    }

    /** Each step's effect once, each step recorded once by each side under the same id. */
    private void assertStored(String workflowId, Receipt receipt) throws SQLException {
        assertEquals(List.of("alice:99750", "bob:250"), strings(url, "SELECT id || ':' || balance_cents FROM "
                + table("accounts") + " ORDER BY id"));
        assertEquals(List.of(String.valueOf(receipt.receiptId())), strings(url, "SELECT receipt_id::text FROM "
                + table("transfers") + " WHERE workflow_id = ?", workflowId));
        List<String> steps = List.of("0:debit", "1:credit", "2:receipt");
        assertEquals(steps, strings(url, "SELECT step_id || ':' || step_name FROM " + table("datasource_outputs")
                + " WHERE workflow_id = ? AND error IS NULL ORDER BY step_id", workflowId));
        assertEquals(steps, dbosSteps(workflowId));
    }

    private Settings settings(String workflowId, String crashAfter) {
        return new Settings(url, schema, systemDbUrl, user, password, workflowId, crashAfter);
    }

    /** The steps DBOS recorded for the workflow, {@code "<id>:<name>"}, from its system database. */
    private List<String> dbosSteps(String workflowId) throws SQLException {
        return strings(null, "SELECT function_id || ':' || function_name FROM dbos.operation_outputs"
                + " WHERE workflow_uuid = ? ORDER BY function_id", workflowId);
    }

    /** A query's first column as strings; {@code r2dbcUrl} null for the DBOS system database. */
    private List<String> strings(String r2dbcUrl, String sql, String... params) throws SQLException {
        List<String> rows = new ArrayList<>();
        try (Connection c = r2dbcUrl == null ? DriverManager.getConnection(systemDbUrl, user, password)
                : TestDatabases.jdbc(r2dbcUrl); PreparedStatement s = c.prepareStatement(sql)) {
            for (int i = 0; i < params.length; i++) {
                s.setString(i + 1, params[i]);
            }
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    rows.add(rs.getString(1));
                }
            }
        }
        return rows;
    }

    private String table(String name) {
        return "\"" + schema + "\"." + name;
    }

    /** Runs the example's {@code main} in a JVM of its own with the test classpath. */
    private static Process startExample(Path log, Settings s) throws IOException {
        String surefire = System.getProperty("surefire.test.class.path");
        String classpath = surefire != null && !surefire.isBlank() ? surefire : System.getProperty("java.class.path");
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m",
                "-XX:TieredStopAtLevel=1", "-cp", classpath, DbosWorkflowExample.class.getName(),
                "--url", s.url(), "--schema", s.schema(), "--system-db-url", s.systemDbUrl(),
                "--system-db-user", s.systemDbUser(), "--workflow-id", s.workflowId()));
        if (!s.systemDbPassword().isEmpty()) {
            command.addAll(List.of("--system-db-password", s.systemDbPassword()));
        }
        if (s.crashAfter() != null) {
            command.addAll(List.of("--crash-after", s.crashAfter()));
        }
        return new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    }
}
