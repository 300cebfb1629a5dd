package dev.txstep.reactor.dbos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.dbos.transact.DBOS;
import dev.dbos.transact.StartWorkflowOptions;
import dev.txstep.AsyncDatasource;
import dev.txstep.DatasourceConfig;
import dev.txstep.reactor.dbos.ShopWorkflows.Charge;
import dev.txstep.reactor.dbos.ShopWorkflows.Order;
import dev.txstep.reactor.dbos.ShopWorkflows.Receipt;
import dev.txstep.reactor.dbos.ShopWorkflows.Reservation;
import dev.txstep.testing.TestDatabases;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A DBOS application killed with SIGKILL in the middle of its workflows, and a new one that
 * recovers them: every step's effect happens exactly once, and every workflow returns what an
 * uncrashed run of it returns — whichever of the two records (DBOS's, txstep's) the recovery
 * finds.
 *
 * <p>A child JVM ({@link DbosCrashChild}) runs three workflows on a fresh DBOS system database and
 * stops each at a chosen moment: after DBOS recorded a txstep step; after DBOS recorded a txstep
 * step's error; and after txstep committed a step but before DBOS recorded it. Where each
 * stopped is checked in both databases before the kill, not assumed. Then a new {@code DBOS} in
 * this JVM launches on the same system database, recovers the three workflows, and their results
 * and the effect rows (a table without a key, so a repeated effect would be a second row) are
 * compared with workflows run here without a crash.
 *
 * <p>One child JVM, one kill: it starts DBOS and a datasource, so it costs a few seconds.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class DbosTxStepsCrashTest {

    /** The order every workflow of this test places. */
    static final Order ORDER = new Order("sku-7", 3, 1999);

    /** SIGKILL as Java reports it on Linux: 128 + 9. */
    private static final int KILLED = 137;

    @TempDir
    Path dir;

    private DbosSystemDatabase systemDb;
    private String url;
    private ShopTables tables;
    private AsyncDatasource ds;
    private DBOS dbos;
    private Process child;

    @BeforeEach
    void setUp() {
        systemDb = DbosSystemDatabase.create();
        url = TestDatabases.postgresR2dbcUrl();
        tables = new ShopTables(url, TestDatabases.uniqueSchema("dbos_crash"));
        ds = AsyncDatasource.create(DatasourceConfig.builder().url(url).schema(tables.schema()).build())
                .block(Duration.ofSeconds(60));
        tables.createEffects();
    }

    @AfterEach
    void tearDown() throws InterruptedException {
        if (child != null && child.isAlive()) {
            child.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        }
        if (dbos != null) {
            dbos.shutdown(); // before the datasource closes: no workflow may be left mid-step
        }
        if (ds != null) {
            ds.close().block(Duration.ofSeconds(30));
        }
        tables.drop();
        systemDb.drop();
    }

    @Test
    void killedWorkflowsAreRecoveredWithEveryEffectOnce() throws Exception {
        String run = UUID.randomUUID().toString().substring(0, 8);
        String afterBothRecords = "both-" + run;
        String afterDbosRecordedError = "error-" + run;
        String afterTxstepCommit = "commit-" + run;
        Path log = dir.resolve("child.log");
        child = startChild(log, systemDb.name(), tables.schema(), afterBothRecords, afterDbosRecordedError,
                afterTxstepCommit);
        awaitStops(log, 3);

        // Where the workflows stopped, as the two databases record it.
        assertEquals(List.of("0:reserve", "1:audit", "2:charge"), systemDb.recordedSteps(afterBothRecords));
        assertEquals(List.of("0:reserve", "2:charge"), tables.txstepSteps(afterBothRecords));
        assertEquals(List.of("0:reserve"), systemDb.recordedSteps(afterDbosRecordedError));
        assertEquals(List.of("0:reserve:error"), tables.txstepSteps(afterDbosRecordedError));
        assertEquals(List.of("0:reserve", "1:audit"), systemDb.recordedSteps(afterTxstepCommit),
                "DBOS has not recorded step 2");
        assertEquals(List.of("0:reserve", "2:charge"), tables.txstepSteps(afterTxstepCommit),
                "txstep committed step 2");

        child.destroyForcibly();
        if (!child.waitFor(60, TimeUnit.SECONDS)) {
            fail("the child did not die:\n" + Files.readString(log));
        }
        assertEquals(KILLED, child.exitValue(), () -> read(log));

        // A restarted application: its launch recovers the three pending workflows.
        dbos = new DBOS(systemDb.config());
        ShopWorkflows workflows = dbos.registerProxy(ShopWorkflows.class, new ShopWorkflowsImpl(dbos,
                DbosTxSteps.create(dbos, ds), tables, ShopWorkflowsImpl.NO_CHECKPOINTS));
        dbos.launch();
        Receipt recoveredAfterBoth = dbos.<Receipt, RuntimeException>retrieveWorkflow(afterBothRecords).getResult();
        String recoveredError = dbos.<String, RuntimeException>retrieveWorkflow(afterDbosRecordedError).getResult();
        Receipt recoveredAfterCommit = dbos.<Receipt, RuntimeException>retrieveWorkflow(afterTxstepCommit).getResult();

        String uncrashed = "uncrashed-" + run;
        String uncrashedError = "uncrashed-error-" + run;
        Receipt expected = dbos.startWorkflow(() -> workflows.placeOrder(ORDER), new StartWorkflowOptions(uncrashed))
                .getResult();
        String expectedError = dbos.startWorkflow(() -> workflows.outOfStock(ORDER.sku()),
                new StartWorkflowOptions(uncrashedError)).getResult();

        assertEquals(new Receipt(new Reservation("sku-7", 3, 1), "audited sku-7", new Charge(5997, 1), 1), expected);
        assertEquals("java.lang.IllegalStateException: out of stock: sku-7", expectedError);
        assertEquals(expected, recoveredAfterBoth);
        assertEquals(expected, recoveredAfterCommit);
        assertEquals(expectedError, recoveredError);

        // Each step's effect exactly once (the effects table has no key: a repeat would be a row).
        for (String workflowId : List.of(afterBothRecords, afterTxstepCommit, uncrashed)) {
            assertEquals(List.of("0:reserve x1", "2:charge x1", "3:ship x1"), tables.effects(workflowId), workflowId);
            assertEquals(List.of("0:reserve", "1:audit", "2:charge", "3:ship"), systemDb.recordedSteps(workflowId));
            assertEquals(List.of("0:reserve", "2:charge", "3:ship"), tables.txstepSteps(workflowId));
        }
        for (String workflowId : List.of(afterDbosRecordedError, uncrashedError)) {
            assertEquals(List.of(), tables.effects(workflowId), "a failed step's effect is rolled back");
            assertEquals(List.of("0:reserve"), systemDb.recordedSteps(workflowId));
            assertEquals(List.of("0:reserve:error"), tables.txstepSteps(workflowId));
        }
    }

    /** Waits until the child printed {@code count} stops; fails if it dies or reports a failure first. */
    private void awaitStops(Path log, int count) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (true) {
            List<String> lines = Files.exists(log) ? Files.readAllLines(log, StandardCharsets.UTF_8) : List.of();
            if (lines.stream().filter(line -> line.startsWith(DbosCrashChild.PAUSED + " ")).count() >= count) {
                return;
            }
            if (!child.isAlive() || lines.stream().anyMatch(line -> line.startsWith("FAILED "))) {
                fail("the child ended before its " + count + " stops:\n" + String.join("\n", lines));
            }
            if (System.nanoTime() > deadline) {
                fail("the child did not reach its " + count + " stops in time:\n" + String.join("\n", lines));
            }
            Thread.sleep(50);
        }
    }

    /** Starts {@link DbosCrashChild} in a JVM of its own with this test's classpath; output to {@code log}. */
    private static Process startChild(Path log, String... args) throws IOException {
        String surefire = System.getProperty("surefire.test.class.path");
        String classpath = surefire != null && !surefire.isBlank() ? surefire : System.getProperty("java.class.path");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = new ArrayList<>(List.of(java, "-Xmx256m", "-XX:TieredStopAtLevel=1", "-cp", classpath,
                DbosCrashChild.class.getName()));
        command.addAll(List.of(args));
        return new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    }

    private static String read(Path log) {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }
}
