package dev.txstep;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.txstep.testing.TestDatabases;
import java.io.IOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * Creating datasources installs {@code datasource_outputs} exactly as DESIGN.md says, also when
 * several creates run at once: on separate schemas, on one shared fresh schema (one history row per
 * migration, not one per creator), and in a schema that already holds unrelated tables (as DBOS's
 * own {@code dbos} schema does). And the migration takes the PostgreSQL advisory lock that makes
 * creates in different processes wait for each other.
 *
 * <p>Real PostgreSQL; every claim is checked in {@code information_schema}, {@code pg_locks} and
 * Flyway's {@code txstep_schema_history} by counting rows.
 */
class ConcurrentCreationTest {

    private static final int CREATORS = 8;
    private static final String HISTORY = "txstep_schema_history";
    /**
     * The advisory lock key every txstep migration takes (Migrator's ADVISORY_LOCK_KEY). It is a
     * contract between processes — and between txstep versions — so the test pins its value.
     */
    private static final long ADVISORY_LOCK_KEY = 0x7478_7374_6570_0001L;

    private final String url = TestDatabases.postgresR2dbcUrl();
    private final List<String> schemas = new ArrayList<>();
    private final List<AsyncDatasource> opened = new ArrayList<>();

    @AfterEach
    void cleanUp() {
        for (AsyncDatasource ds : opened) {
            ds.close().block(Duration.ofSeconds(30));
        }
        for (String schema : schemas) {
            TestDatabases.exec(url, "DROP SCHEMA IF EXISTS \"" + schema + "\" CASCADE");
        }
    }

    @Test
    void concurrentCreatesOnSeparateFreshSchemasAllInstallTheTable() throws Exception {
        List<String> fresh = new ArrayList<>();
        for (int i = 0; i < CREATORS; i++) {
            fresh.add(schema("sep" + i));
        }
        long start = System.nanoTime();
        List<AsyncDatasource> created = createAll(fresh);
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

        assertEquals(CREATORS, created.size(), "every create succeeded");
        for (int i = 0; i < CREATORS; i++) {
            assertEquals(fresh.get(i), created.get(i).schema());
        }
        for (String schema : fresh) {
            assertTableAsDesigned(schema);
            assertHistory(schema, false);
        }
        System.out.printf("%d concurrent creates on separate schemas: %d ms%n", CREATORS, millis);
    }

    @Test
    void concurrentCreatesOnOneSharedFreshSchemaMigrateItOnce() throws Exception {
        String shared = schema("shared");
        List<String> same = new ArrayList<>();
        for (int i = 0; i < CREATORS; i++) {
            same.add(shared);
        }
        // In one JVM, Migrator also serializes migrations on a JVM-wide lock, so this proves the
        // end state (one migration, eight working datasources), not the cross-process lock: that is
        // aCreateWaitsForTheAdvisoryLockAnotherProcessHolds.
        long start = System.nanoTime();
        List<AsyncDatasource> created = createAll(same);
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

        assertEquals(CREATORS, created.size(), "every create succeeded");
        assertTableAsDesigned(shared);
        assertHistory(shared, false);
        // Every one of them works on the same table.
        for (AsyncDatasource ds : created) {
            assertEquals(1, ds.runTxStepAsync(DatasourceOptions.named("one"), s -> Mono.just(1)).block());
        }
        System.out.printf("%d concurrent creates on one schema: %d ms%n", CREATORS, millis);
    }

    @Test
    void aSchemaWithUnrelatedTablesStillGetsTheTable() throws Exception {
        // What DBOS's own "dbos" schema looks like to txstep: a schema that exists and holds tables.
        String existing = schema("dbosish");
        TestDatabases.exec(url, "CREATE SCHEMA \"" + existing + "\"");
        TestDatabases.exec(url, "CREATE TABLE \"" + existing + "\".workflow_status (workflow_uuid text PRIMARY KEY)");
        TestDatabases.exec(url, "INSERT INTO \"" + existing + "\".workflow_status VALUES ('keep-me')");

        List<AsyncDatasource> created = createAll(List.of(existing, existing, existing));

        assertEquals(3, created.size());
        assertTableAsDesigned(existing);
        assertHistory(existing, true);
        assertEquals(1, TestDatabases.queryLong(url, "SELECT COUNT(*) FROM \"" + existing
                + "\".workflow_status WHERE workflow_uuid = 'keep-me'"), "the unrelated table is untouched");
    }

    @Test
    void aCreateWaitsForTheAdvisoryLockAnotherProcessHolds() throws Exception {
        String schema = schema("locked");
        try (Connection other = TestDatabases.jdbc(url); Statement st = other.createStatement()) {
            // Play the part of another process that is migrating right now.
            st.execute("SELECT pg_advisory_lock(" + ADVISORY_LOCK_KEY + ")");
            CompletableFuture<AsyncDatasource> create = AsyncDatasource.create(config(schema)).toFuture();

            awaitWaitingForAdvisoryLock();
            assertFalse(create.isDone(), "the create waits while the lock is held");
            assertEquals(0, TestDatabases.queryLong(url, "SELECT COUNT(*) FROM information_schema.schemata"
                    + " WHERE schema_name = '" + schema + "'"), "and has not touched the schema yet");

            st.execute("SELECT pg_advisory_unlock(" + ADVISORY_LOCK_KEY + ")");
            AsyncDatasource ds = create.get(30, TimeUnit.SECONDS);
            opened.add(ds);
        }
        assertTableAsDesigned(schema);
        assertHistory(schema, false);
    }

    // ---- helpers ----

    private String schema(String prefix) {
        String schema = TestDatabases.uniqueSchema("cc_" + prefix);
        schemas.add(schema);
        return schema;
    }

    private DatasourceConfig config(String schema) {
        return DatasourceConfig.builder().url(url).schema(schema).initialPoolSize(0).maxPoolSize(2).build();
    }

    /** Subscribes to one create per schema at once, each on its own worker; in the given order. */
    private List<AsyncDatasource> createAll(List<String> targets) {
        List<Mono<AsyncDatasource>> creates = new ArrayList<>();
        for (String schema : targets) {
            creates.add(AsyncDatasource.create(config(schema))
                    .subscribeOn(Schedulers.boundedElastic())
                    // Remember it even if a sibling fails, so that cleanUp closes it.
                    .doOnNext(ds -> {
                        synchronized (opened) {
                            opened.add(ds);
                        }
                    }));
        }
        return Flux.mergeSequential(creates, CREATORS, 1).collectList().block(Duration.ofSeconds(60));
    }

    /** The columns, types, nullability and primary key DESIGN.md fixes. */
    private void assertTableAsDesigned(String schema) throws SQLException {
        Map<String, String> expected = new TreeMap<>(Map.of(
                "workflow_id", "text NO",
                "step_id", "integer NO",
                "step_name", "text NO",
                "output", "text YES",
                "error", "text YES",
                "serialization", "text YES",
                "created_at", "bigint NO"));
        Map<String, String> actual = new TreeMap<>();
        try (Connection c = TestDatabases.jdbc(url);
                PreparedStatement ps = c.prepareStatement("SELECT column_name, data_type, is_nullable"
                        + " FROM information_schema.columns WHERE table_schema = ? AND table_name = 'datasource_outputs'")) {
            ps.setString(1, schema);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    actual.put(rs.getString(1), rs.getString(2) + " " + rs.getString(3));
                }
            }
        }
        assertEquals(expected, actual, "datasource_outputs in " + schema + " has exactly the designed columns");
        assertEquals(List.of("workflow_id", "step_id"), primaryKey(schema), "primary key (workflow_id, step_id)");
        // created_at defaults to now in epoch milliseconds.
        assertTrue(TestDatabases.queryLong(url, "SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = '"
                + schema + "' AND table_name = 'datasource_outputs' AND column_name = 'created_at'"
                + " AND column_default IS NOT NULL") == 1, "created_at has a default");
    }

    private List<String> primaryKey(String schema) throws SQLException {
        List<String> columns = new ArrayList<>();
        try (Connection c = TestDatabases.jdbc(url);
                PreparedStatement ps = c.prepareStatement("SELECT k.column_name"
                        + " FROM information_schema.table_constraints t"
                        + " JOIN information_schema.key_column_usage k ON k.constraint_schema = t.constraint_schema"
                        + "  AND k.constraint_name = t.constraint_name AND k.table_name = t.table_name"
                        + " WHERE t.table_schema = ? AND t.table_name = 'datasource_outputs'"
                        + "  AND t.constraint_type = 'PRIMARY KEY' ORDER BY k.ordinal_position")) {
            ps.setString(1, schema);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    columns.add(rs.getString(1));
                }
            }
        }
        return columns;
    }

    /**
     * Flyway's history in the schema: exactly one successful row per migration file, and besides
     * them exactly one marker row — Flyway's schema-creation marker (type SCHEMA) when Flyway created
     * the schema, or the version-0 baseline (type BASELINE) when the schema already held tables.
     */
    private void assertHistory(String schema, boolean baselined) throws Exception {
        List<String> rows = new ArrayList<>();
        try (Connection c = TestDatabases.jdbc(url); Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT installed_rank, version, type, description, success FROM \""
                        + schema + "\"." + HISTORY + " ORDER BY installed_rank")) {
            while (rs.next()) {
                rows.add(rs.getInt(1) + "|" + rs.getString(2) + "|" + rs.getString(3) + "|" + rs.getString(4)
                        + "|" + rs.getBoolean(5));
            }
        }
        List<String> expected = new ArrayList<>();
        expected.add(baselined ? "1|0|BASELINE|txstep baseline|true" : "0|null|SCHEMA|<< Flyway Schema Creation >>|true");
        int rank = 1;
        for (Map.Entry<String, String> migration : migrations().entrySet()) {
            rank++;
            expected.add((baselined ? rank : rank - 1) + "|" + migration.getKey() + "|SQL|" + migration.getValue()
                    + "|true");
        }
        assertEquals(expected, rows, "history of " + schema);
    }

    /** The PostgreSQL migrations on the class path: version → Flyway's description. */
    private static Map<String, String> migrations() throws IOException, URISyntaxException {
        URL folder = ConcurrentCreationTest.class.getClassLoader().getResource("db/migration/postgresql");
        assertTrue(folder != null && "file".equals(folder.getProtocol()), "migrations found as files: " + folder);
        Pattern name = Pattern.compile("V([0-9_.]+)__(.+)\\.sql");
        Map<String, String> migrations = new TreeMap<>();
        try (Stream<Path> files = Files.list(Paths.get(folder.toURI()))) {
            for (Path file : files.collect(Collectors.toList())) {
                Matcher m = name.matcher(file.getFileName().toString());
                if (m.matches()) {
                    migrations.put(m.group(1).replace('_', '.'), m.group(2).replace('_', ' '));
                }
            }
        }
        assertFalse(migrations.isEmpty(), "at least one migration");
        return migrations;
    }

    /** Bounded poll of pg_locks until some backend waits for txstep's advisory lock. */
    private void awaitWaitingForAdvisoryLock() throws SQLException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        // A bigint advisory key shows as classid = high 32 bits, objid = low 32 bits, objsubid = 1.
        String sql = "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                + " AND classid = " + (ADVISORY_LOCK_KEY >>> 32) + " AND objid = " + (ADVISORY_LOCK_KEY & 0xFFFF_FFFFL)
                + " AND objsubid = 1";
        while (TestDatabases.queryLong(url, sql) != 1) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no create ever waited for the advisory lock");
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
        }
    }
}
