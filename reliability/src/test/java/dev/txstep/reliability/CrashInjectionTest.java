package dev.txstep.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.txstep.AsyncDatasource;
import dev.txstep.DatasourceConfig;
import dev.txstep.testing.TestDatabases;
import dev.txstep.testing.TestSchema;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * R2, crash injection: a process running a workflow is killed with SIGKILL at random moments and
 * restarted with the same workflow id until the workflow completes; every step still takes effect
 * exactly once and the outputs are those of a run that was never killed.
 *
 * <p>A child JVM ({@link CrashInjectionMain}) runs a workflow of 50 steps; step {@code i} inserts
 * an effect row {@code (workflow_id, i)} into a table with no key (a second application would be a
 * second row, not an error), adds {@code i + 1} to the workflow's counter and returns its input
 * together with the counter and the effect count it sees. The test kills the child
 * ({@code Process.destroyForcibly()}, SIGKILL on Linux) and starts a new one on the same workflow
 * id, again and again, until one completes (a run that finishes before its kill, or the first
 * run after the kills are used up); then the next workflow, until the kills reach 10 (short
 * variant) or 100 (long, {@code -Preliability}).
 *
 * <p>Aim: each child boots while the previous run works, opens its datasource and warms up, then
 * waits for the test's go. Most kills then come after progress: the test draws a target among the
 * steps the run is yet to record, waits until that many are recorded (polling the table) and kills
 * 0–20 ms later, so kills land inside steps, between them and during commits, and the workflow
 * advances with each; the others come early, while a restarted run replays its recorded steps or
 * runs its first new one. Where each kill landed is counted, not guessed: once the child's server
 * sessions are gone, the recorded steps are counted, and the probe table {@code function_starts}
 * (written outside the step transaction) tells whether the next step's function had begun — a
 * kill inside an open step transaction, whose effect must have been rolled back.
 *
 * <p>Checked per workflow, by counting rows: each step's effect exactly once, the counter at
 * {@code 1 + 2 + ... + 50}, 50 output rows, no errors; the completing run's outputs equal those
 * of the same workflow run uncrashed (a second workflow id, in the test's JVM), and so do the
 * recorded output rows.
 */
@Timeout(value = 30, unit = TimeUnit.MINUTES)
class CrashInjectionTest {

    private static final int STEPS = 50;
    private static final int KILLS = Scale.pick(10, 100);
    /** SIGKILL as Java reports it on Linux: 128 + 9. */
    private static final int KILLED = 137;

    @TempDir
    Path dir;
    private TestSchema db;
    private AsyncDatasource ds;
    private Connection jdbc;
    /** The run being aimed at, and the next one, booting meanwhile. */
    private Run current;
    private Run next;

    private final long seed = System.nanoTime();
    private final Random random = new Random(seed);

    // Where the kills landed, counted after each one.
    private int kills;
    private int killsMidWorkflow;
    private int killsInsideStep;
    /** Child JVMs started, and how many of them were given a workflow (the last stays on standby). */
    private int childJvms;
    private int runs;

    @BeforeEach
    void setUp() throws SQLException {
        db = new TestSchema(TestDatabases.postgresR2dbcUrl(), TestDatabases.uniqueSchema("r2_crash"));
        ds = AsyncDatasource.create(DatasourceConfig.builder().url(db.url()).schema(db.name()).maxPoolSize(4)
                        .build())
                .block(Duration.ofSeconds(60));
        CrashInjectionMain.createTables(db);
        jdbc = TestDatabases.jdbc(db.url());
    }

    @AfterEach
    void tearDown() throws SQLException {
        for (Run run : new Run[] {current, next}) {
            if (run != null) {
                run.process().destroyForcibly();
            }
        }
        if (jdbc != null) {
            jdbc.close();
        }
        if (ds != null) {
            ds.close().block(Duration.ofSeconds(60));
        }
        db.exec("DROP SCHEMA IF EXISTS \"" + db.name() + "\" CASCADE");
    }

    @Test
    void killedAtRandomMomentsAndRestartedUntilComplete() throws Exception {
        long start = System.nanoTime();
        next = startRun();
        int workflows = 0;
        while (kills < KILLS) {
            String workflowId = "crash-" + workflows;
            List<String> outputs = runUntilComplete(workflowId);
            assertLikeAnUncrashedRun(workflowId, outputs);
            workflows++;
        }
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

        long functionStarts = db.count("SELECT COUNT(*) FROM " + db.q("function_starts")
                + " WHERE workflow_id LIKE 'crash-%' AND workflow_id NOT LIKE '%-uncrashed'");
        Report.of("R2 crash injection (SIGKILL, restart until complete)")
                .put("workflows", workflows)
                .put("steps each", STEPS)
                .put("kills", kills)
                .put("kills before the last step committed", killsMidWorkflow)
                .put("of which inside an open step transaction", killsInsideStep)
                .put("kills after the last step committed", kills - killsMidWorkflow)
                .put("runs (child JVMs)", runs)
                .put("step functions rolled back by a kill", functionStarts - (long) STEPS * workflows)
                .put("effect rows", db.count("SELECT COUNT(*) FROM " + db.q("effects")
                        + " WHERE workflow_id NOT LIKE '%-uncrashed'"))
                .put("steps", (long) STEPS * workflows)
                .put("workflows equal to their uncrashed run", workflows)
                .put("seed", seed)
                .put("ms", millis)
                .publish();
    }

    /** Runs the workflow, killing runs and starting the next, until a run completes; its outputs. */
    private List<String> runUntilComplete(String workflowId) throws Exception {
        db.exec("INSERT INTO " + db.q("counter") + " VALUES ('" + workflowId + "', 0)");
        while (true) {
            current = next;
            next = startRun(); // boots while the current run works: a restart pays no JVM start-up
            Run run = current;
            runs++;
            awaitReady(run);
            long recordedBefore = recorded(workflowId);
            ChildJvm.writeAtomically(run.go(), List.of(workflowId));
            // A run that finds every step recorded only replays them: let it complete.
            boolean aimed = kills < KILLS && recordedBefore < STEPS;
            if (aimed) {
                killAtRandomMoment(run, workflowId, recordedBefore);
            }
            if (!run.process().waitFor(5, TimeUnit.MINUTES)) {
                fail("run " + run.number() + " of " + workflowId + " neither completed nor died:\n" + run.log());
            }
            int exit = run.process().exitValue();
            if (exit == 0) {
                return Files.readAllLines(run.result());
            }
            if (exit != KILLED || !aimed) {
                fail("run " + run.number() + " of " + workflowId + " failed (exit " + exit + "):\n" + run.log());
            }
            countWhereTheKillLanded(run, workflowId);
        }
    }

    /**
     * Kills the run at a random moment. Mostly (4 times in 5) after progress: draws a target among
     * the steps this run is yet to record, waits until the table holds that many, then 0–20 ms
     * more (about one step's time in a child), so the kill lands inside the next step, between
     * steps or, after the last one, before the child exits; every such kill lets the workflow
     * advance. Otherwise early: 0 to (2 ms per recorded step + 30 ms) after the go, while the run
     * replays its recorded steps or runs its first new one. The run may complete before its kill;
     * then nothing is killed.
     */
    private void killAtRandomMoment(Run run, String workflowId, long recordedBefore) throws SQLException {
        if (random.nextInt(5) == 0) {
            LockSupport.parkNanos(TimeUnit.MICROSECONDS.toNanos(random.nextInt((int) (2_000 * recordedBefore + 30_000))));
        } else {
            long target = recordedBefore + 1 + random.nextInt((int) (STEPS - recordedBefore));
            while (run.process().isAlive() && recorded(workflowId) < target) {
                LockSupport.parkNanos(TimeUnit.MICROSECONDS.toNanos(500));
            }
            LockSupport.parkNanos(TimeUnit.MICROSECONDS.toNanos(random.nextInt(20_000)));
        }
        run.process().destroyForcibly();
    }

    /**
     * After a kill: waits until the run's server sessions have ended (so no commit of its is still
     * on its way), then counts whether the workflow was unfinished and whether the function of its
     * next step had begun in the killed run.
     */
    private void countWhereTheKillLanded(Run run, String workflowId) throws SQLException {
        kills++;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (count("SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = ?", run.applicationName()) > 0) {
            if (System.nanoTime() > deadline) {
                fail("the server sessions of killed run " + run.number() + " did not end");
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(2));
        }
        long recorded = recorded(workflowId);
        if (recorded < STEPS) {
            killsMidWorkflow++;
            if (count("SELECT COUNT(*) FROM " + db.q("function_starts") + " WHERE workflow_id = ? AND run = "
                    + run.number() + " AND step = " + recorded, workflowId) > 0) {
                killsInsideStep++;
            }
        }
    }

    private void assertLikeAnUncrashedRun(String workflowId, List<String> outputs) throws SQLException {
        String uncrashed = workflowId + "-uncrashed";
        db.exec("INSERT INTO " + db.q("counter") + " VALUES ('" + uncrashed + "', 0)");
        List<String> expected = CrashInjectionMain.workflow(ds, db.name(), uncrashed, STEPS, 0)
                .block(Duration.ofMinutes(2));
        assertEquals(STEPS, count("SELECT COUNT(*) FROM " + db.q("function_starts") + " WHERE workflow_id = ?",
                uncrashed), "the uncrashed run called each step's function once");

        assertEquals(expected, outputs, workflowId + ": the completing run returned the uncrashed run's outputs");
        assertEquals(STEPS, count("SELECT COUNT(*) FROM " + db.q("effects") + " WHERE workflow_id = ?", workflowId),
                workflowId + ": as many effect rows as steps");
        assertEquals(STEPS, count("SELECT COUNT(DISTINCT step) FROM " + db.q("effects") + " WHERE workflow_id = ?"
                + " AND step BETWEEN 0 AND " + (STEPS - 1), workflowId), workflowId + ": each step's effect exactly once");
        assertEquals((long) STEPS * (STEPS + 1) / 2, count("SELECT n FROM " + db.q("counter")
                + " WHERE workflow_id = ?", workflowId), workflowId + ": the counter holds each step's addition once");
        assertEquals(STEPS, count("SELECT COUNT(*) FROM " + db.outputs() + " WHERE workflow_id = ? AND error IS NULL",
                workflowId), workflowId + ": one output row per step, none an error");
        assertEquals(STEPS, count("SELECT COUNT(*) FROM " + db.outputs() + " c JOIN " + db.outputs() + " u"
                + " ON u.step_id = c.step_id AND u.output = c.output AND u.workflow_id = '" + uncrashed + "'"
                + " WHERE c.workflow_id = ?", workflowId), workflowId + ": recorded outputs equal the uncrashed run's");
    }

    // ---- helpers ----

    private long recorded(String workflowId) throws SQLException {
        return count("SELECT COUNT(*) FROM " + db.outputs() + " WHERE workflow_id = ?", workflowId);
    }

    /** One long from a query with one text parameter, on the test's own JDBC connection. */
    private long count(String sql, String param) throws SQLException {
        try (PreparedStatement ps = jdbc.prepareStatement(sql)) {
            ps.setString(1, param);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    /** A child JVM on standby: it opens its datasource, warms up, and waits for its go file. */
    private Run startRun() {
        int number = ++childJvms;
        String applicationName = "txstep-r2-" + db.name() + "-" + number;
        Run run = new Run(number, applicationName, dir.resolve("run-" + number + ".ready"),
                dir.resolve("run-" + number + ".go"), dir.resolve("run-" + number + ".result"),
                dir.resolve("run-" + number + ".log"), null);
        Process process = ChildJvm.start(CrashInjectionMain.class, run.logFile(),
                withApplicationName(db.url(), applicationName), db.name(), Integer.toString(STEPS),
                Integer.toString(number), run.ready().toString(), run.go().toString(), run.result().toString());
        return run.with(process);
    }

    private void awaitReady(Run run) throws IOException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (!Files.exists(run.ready())) {
            if (!run.process().isAlive() || System.nanoTime() > deadline) {
                fail("run " + run.number() + " never got ready:\n" + run.log());
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
        }
    }

    /** The URL with the child's own application name, by which its server sessions are found. */
    private static String withApplicationName(String url, String name) {
        return url + (url.contains("?") ? "&" : "?") + "applicationName=" + name;
    }

    /** One child JVM: its run number, the name its server sessions carry, and its files. */
    private record Run(int number, String applicationName, Path ready, Path go, Path result, Path logFile,
            Process process) {

        Run with(Process started) {
            return new Run(number, applicationName, ready, go, result, logFile, started);
        }

        /** What the child printed (its stack trace, if it failed), for failure messages. */
        String log() throws IOException {
            return Files.readString(logFile);
        }
    }
}
