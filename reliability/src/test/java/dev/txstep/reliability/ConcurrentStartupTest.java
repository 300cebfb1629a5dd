package dev.txstep.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.txstep.testing.TestDatabases;
import dev.txstep.testing.TestSchema;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * R7, concurrent start-up: several processes create a datasource on the same schema at the same
 * moment, and the migration runs once. Each round starts {@link ConcurrentStartupMain} in
 * {@code PROCESSES} child JVMs, lets them warm up, then opens a start barrier (a file) so that
 * their {@code AsyncDatasource.create} calls overlap; each then runs one step in a workflow of its
 * own. Every round uses a fresh schema (created by whichever process gets there first); a last round
 * uses a schema that already exists and holds an unrelated table (as DBOS's own {@code dbos}
 * schema does).
 *
 * <p>Proves, by counting rows: every process exited 0; {@code datasource_outputs} exists once; the
 * schema's {@code txstep_schema_history} holds exactly one successful row per migration file on the
 * class path, plus one marker row (Flyway's schema creation for a fresh schema, the version-0
 * baseline for an existing one) and no failed row; every process recorded its step (one row each);
 * the unrelated table kept its row. The steps' outputs are the processes' create intervals, from
 * which the test asserts that at least two creates really ran at the same time.
 *
 * <p>Short: 4 processes, 1 fresh schema, then the existing one. Long ({@code -Preliability}):
 * 8 processes, 5 fresh schemas, then the existing one.
 */
class ConcurrentStartupTest {

    private static final int PROCESSES = Scale.pick(4, 8);
    private static final int ROUNDS = Scale.pick(1, 5);
    private static final long PROCESS_TIMEOUT_SECONDS = 180;
    private static final String HISTORY = "txstep_schema_history";

    private final String url = TestDatabases.postgresR2dbcUrl();
    private final List<String> schemas = new ArrayList<>();
    private final List<Process> started = new ArrayList<>();

    @AfterEach
    void cleanUp() {
        for (Process process : started) {
            if (process.isAlive()) {
                process.destroyForcibly(); // only after a failure: a passing round waited for every exit
            }
        }
        for (String schema : schemas) {
            TestDatabases.exec(url, "DROP SCHEMA IF EXISTS \"" + schema + "\" CASCADE");
        }
    }

    @Test
    @Timeout(value = 20, unit = TimeUnit.MINUTES)
    void processesStartingAtOnceMigrateEachSchemaExactlyOnce() throws Exception {
        Map<String, String> migrations = migrationFiles();
        Figures figures = new Figures();
        for (int round = 1; round <= ROUNDS; round++) {
            TestSchema fresh = schema("r7_fresh");
            startTogether(fresh, "fresh-" + round, figures);
            figures.historyRows += assertMigratedOnce(fresh, migrations, false);
        }
        // Once more on a schema that exists and holds an unrelated table: baselined once, migrated once.
        TestSchema existing = schema("r7_existing");
        existing.exec("CREATE SCHEMA \"" + existing.name() + "\"");
        existing.exec("CREATE TABLE " + existing.q("workflow_status") + " (workflow_uuid text PRIMARY KEY)");
        existing.exec("INSERT INTO " + existing.q("workflow_status") + " VALUES ('keep-me')");
        startTogether(existing, "existing", figures);
        figures.historyRows += assertMigratedOnce(existing, migrations, true);
        assertEquals(1, existing.count("SELECT COUNT(*) FROM " + existing.q("workflow_status")
                + " WHERE workflow_uuid = 'keep-me'"), "the unrelated table kept its row");

        Report.of("R7 concurrent start-up")
                .put("processesPerSchema", PROCESSES)
                .put("freshSchemas", ROUNDS)
                .put("existingSchemas", 1)
                .put("childJvmsExited0", figures.processes)
                .put("migrationFiles", migrations.size())
                .put("historyRowsChecked", figures.historyRows)
                .put("successfulRunsPerMigrationPerSchema", 1)
                .put("stepRowsRecorded", figures.stepRows)
                .put("leastPeakConcurrentCreates", figures.leastPeak)
                .put("msStartingJvms", figures.startingMillis)
                .put("msFromBarrierToExit", figures.runningMillis)
                .publish();
    }

    /** What the rounds counted, for the report. */
    private static final class Figures {
        int processes;
        int historyRows;
        int stepRows;
        int leastPeak = Integer.MAX_VALUE;
        long startingMillis;
        long runningMillis;
    }

    /**
     * Starts the processes on one schema, opens the barrier once all are waiting at it, and waits
     * for them. Asserts that each exited 0 and recorded its step, and that creates overlapped.
     * Adds what it counted to {@code figures}.
     */
    private void startTogether(TestSchema schema, String label, Figures figures) throws Exception {
        Path dir = Path.of("target", "reliability", "r7", schema.name()).toAbsolutePath();
        Files.createDirectories(dir);
        Path go = dir.resolve("go");
        long start = System.nanoTime();
        List<Process> processes = new ArrayList<>();
        List<Path> logs = new ArrayList<>();
        for (int i = 0; i < PROCESSES; i++) {
            Path log = dir.resolve("child-" + i + ".log");
            logs.add(log);
            Process process = ChildJvm.start(ConcurrentStartupMain.class, log, schema.name(), workflowId(label, i),
                    dir.resolve("ready-" + i).toString(), go.toString());
            processes.add(process);
            started.add(process);
        }
        awaitReady(dir, processes, logs);
        Files.writeString(go, "go");
        long barrier = System.nanoTime();

        for (int i = 0; i < PROCESSES; i++) {
            Process process = processes.get(i);
            assertTrue(process.waitFor(PROCESS_TIMEOUT_SECONDS, TimeUnit.SECONDS),
                    "process " + i + " finished in time (output: " + logs.get(i) + ")");
            assertEquals(0, process.exitValue(), "process " + i + " created its datasource and ran its step"
                    + " (output: " + logs.get(i) + ")");
        }

        // Each process's step is recorded, once, with its create interval as output.
        List<long[]> intervals = new ArrayList<>();
        for (int i = 0; i < PROCESSES; i++) {
            String output = recordedOutput(schema, workflowId(label, i));
            Matcher m = Pattern.compile("\"(\\d+)-(\\d+)\"").matcher(output);
            assertTrue(m.matches(), "the step's output is its create interval: " + output);
            intervals.add(new long[] {Long.parseLong(m.group(1)), Long.parseLong(m.group(2))});
        }
        assertEquals(PROCESSES, schema.count("SELECT COUNT(*) FROM " + schema.outputs()), "one row per process");
        int peak = peakOverlap(intervals);
        assertTrue(peak >= 2, "at least two creates ran at the same time (peak " + peak + ")");
        figures.processes += PROCESSES;
        figures.stepRows += PROCESSES;
        figures.leastPeak = Math.min(figures.leastPeak, peak);
        figures.startingMillis += TimeUnit.NANOSECONDS.toMillis(barrier - start);
        figures.runningMillis += TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - barrier);
    }

    /** Waits until every process has written its ready file; fails at once if one died first. */
    private static void awaitReady(Path dir, List<Process> processes, List<Path> logs) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(PROCESS_TIMEOUT_SECONDS);
        for (int i = 0; i < processes.size(); i++) {
            Path ready = dir.resolve("ready-" + i);
            while (!Files.exists(ready)) {
                assertTrue(processes.get(i).isAlive(), "process " + i + " died before the barrier (output: "
                        + logs.get(i) + ")");
                assertTrue(System.nanoTime() < deadline, "process " + i + " reached the barrier in time");
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
            }
        }
    }

    /**
     * Asserts that the migration ran once in the schema and returns the number of history rows
     * checked.
     */
    private int assertMigratedOnce(TestSchema schema, Map<String, String> migrations, boolean baselined)
            throws SQLException {
        assertEquals(1, schema.count("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = '"
                + schema.name() + "' AND table_name = 'datasource_outputs'"), "datasource_outputs exists once");
        Map<String, Integer> runsPerVersion = new TreeMap<>();
        List<String> markers = new ArrayList<>();
        int rows = 0;
        try (Connection c = TestDatabases.jdbc(url); PreparedStatement ps = c.prepareStatement(
                "SELECT version, type, success FROM \"" + schema.name() + "\"." + HISTORY)) {
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    rows++;
                    assertTrue(rs.getBoolean("success"), "no failed migration in " + schema.name());
                    if ("SQL".equals(rs.getString("type"))) {
                        runsPerVersion.merge(rs.getString("version"), 1, Integer::sum);
                    } else {
                        markers.add(rs.getString("type"));
                    }
                }
            }
        }
        Map<String, Integer> once = new TreeMap<>();
        migrations.keySet().forEach(version -> once.put(version, 1));
        assertEquals(once, runsPerVersion, "every migration file ran exactly once in " + schema.name());
        assertEquals(List.of(baselined ? "BASELINE" : "SCHEMA"), markers,
                "one marker row: " + (baselined ? "the baseline of the existing schema" : "Flyway created the schema"));
        return rows;
    }

    /** The largest number of intervals that contain one moment. */
    private static int peakOverlap(List<long[]> intervals) {
        int peak = 0;
        for (long[] candidate : intervals) {
            // The peak is reached at some interval's start.
            int running = 0;
            for (long[] other : intervals) {
                if (other[0] <= candidate[0] && candidate[0] <= other[1]) {
                    running++;
                }
            }
            peak = Math.max(peak, running);
        }
        return peak;
    }

    private String recordedOutput(TestSchema schema, String workflowId) throws SQLException {
        try (Connection c = TestDatabases.jdbc(url); PreparedStatement ps = c.prepareStatement(
                "SELECT output FROM " + schema.outputs() + " WHERE workflow_id = ? AND step_id = 0 AND step_name = 'started'")) {
            ps.setString(1, workflowId);
            try (ResultSet rs = ps.executeQuery()) {
                assertTrue(rs.next(), "the step of " + workflowId + " is recorded");
                String output = rs.getString(1);
                assertFalse(rs.next());
                return output;
            }
        }
    }

    private static String workflowId(String label, int process) {
        return "r7-" + label + "-process-" + process;
    }

    private TestSchema schema(String prefix) {
        TestSchema schema = new TestSchema(url, TestDatabases.uniqueSchema(prefix));
        schemas.add(schema.name());
        return schema;
    }

    /**
     * The PostgreSQL migrations on the class path (core's classes directory in a reactor build, or
     * its jar): version to file name.
     */
    private static Map<String, String> migrationFiles() throws IOException, URISyntaxException {
        String folder = "db/migration/postgresql";
        URL location = ConcurrentStartupTest.class.getClassLoader().getResource(folder);
        assertTrue(location != null, "the migrations are on the class path");
        URI uri = location.toURI();
        Pattern name = Pattern.compile("V([0-9_.]+)__(.+)\\.sql");
        Map<String, String> migrations = new TreeMap<>();
        try (FileSystem jar = "jar".equals(uri.getScheme()) ? FileSystems.newFileSystem(uri, Map.of()) : null;
                Stream<Path> files = Files.list(jar == null ? Path.of(uri) : jar.getPath(folder))) {
            files.forEach(file -> {
                Matcher m = name.matcher(file.getFileName().toString());
                if (m.matches()) {
                    // Flyway's version text: underscores become dots.
                    migrations.put(m.group(1).replace('_', '.'), file.getFileName().toString());
                }
            });
        }
        assertFalse(migrations.isEmpty(), "at least one migration file");
        return migrations;
    }
}
