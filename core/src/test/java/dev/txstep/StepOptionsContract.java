package dev.txstep;

import static dev.txstep.testing.Workflows.inWorkflow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.txstep.testing.TestDatabases;
import dev.txstep.testing.TestSchema;
import dev.txstep.testing.ThreadBoundWorkflows;
import java.time.Duration;
import java.util.Locale;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * Every entry point of the API × every option of {@link DatasourceOptions}: the name is the one
 * recorded, the isolation level is the one the transaction runs at, and a read-only step runs
 * read-only and records nothing — whichever method the step came through. (A {@code transaction}
 * form once rebuilt the options from name and isolation level only, and ran a read-only step as a
 * writable, recorded one.) Runs once per database: each subclass says where the database is.
 */
abstract class StepOptionsContract {

    private String url;
    private String schema;
    private AsyncDatasource async;
    private BlockingDatasource blocking;
    private ThreadBoundWorkflows threadBound;

    /** The R2DBC URL of the database under test. */
    protected abstract String databaseUrl();

    /** Whether the database refuses writes in a read-only transaction (H2 has none). */
    protected abstract boolean enforcesReadOnly();

    /** One way into a step: runs {@code probe} as a step with {@code options}, in workflow {@code workflowId}. */
    interface EntryPoint {
        String run(StepOptionsContract test, DatasourceOptions options, String workflowId, Probe probe);
    }

    /** What a step does, written once for both sessions. */
    interface Probe {
        String run(SqlRunner sql);
    }

    /** The two statements a probe needs, over either kind of session. */
    interface SqlRunner {
        void write(String sql);

        String read(String sql);
    }

    static Stream<Arguments> entryPoints() {
        EntryPoint runTxStepAsync = (t, options, id, probe) -> inWorkflow(id,
                t.async.runTxStepAsync(options, tx -> reactive(tx, probe))).block();
        EntryPoint runTxStepAsyncTyped = (t, options, id, probe) -> inWorkflow(id,
                t.async.runTxStepAsync(options, String.class, tx -> reactive(tx, probe))).block();
        EntryPoint asyncTransaction = (t, options, id, probe) -> inWorkflow(id,
                t.async.<String, String>transaction(options, (tx, argument) -> reactive(tx, probe)).apply("argument"))
                .block();
        EntryPoint runTxStep = (t, options, id, probe) -> ThreadBoundWorkflows.inScope(id,
                () -> t.blocking.runTxStep(options, tx -> probe.run(blocking(tx))));
        EntryPoint blockingTransaction = (t, options, id, probe) -> ThreadBoundWorkflows.inScope(id,
                () -> t.blocking.<String, String>transaction(options, (tx, argument) -> probe.run(blocking(tx)))
                        .apply("argument"));
        return Stream.of(Arguments.of("AsyncDatasource.runTxStepAsync(options, fn)", runTxStepAsync),
                Arguments.of("AsyncDatasource.runTxStepAsync(options, type, fn)", runTxStepAsyncTyped),
                Arguments.of("AsyncDatasource.transaction(options, fn)", asyncTransaction),
                Arguments.of("BlockingDatasource.runTxStep(options, fn)", runTxStep),
                Arguments.of("BlockingDatasource.transaction(options, fn)", blockingTransaction));
    }

    @BeforeEach
    void createDatasource() {
        threadBound = ThreadBoundWorkflows.register();
        url = databaseUrl();
        schema = TestDatabases.uniqueSchema("opt");
        async = AsyncDatasource.create(DatasourceConfig.builder().url(url).schema(schema).build())
                .block(Duration.ofSeconds(60));
        blocking = BlockingDatasource.wrap(async);
        db().exec("CREATE TABLE " + db().q("effects") + " (id VARCHAR(64) PRIMARY KEY)");
    }

    @AfterEach
    void closeDatasource() {
        try {
            if (async != null) {
                async.close().block(Duration.ofSeconds(30));
            }
            db().drop();
        } finally {
            threadBound.close();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("entryPoints")
    void theGivenNameIsRecorded(String entry, EntryPoint entryPoint) {
        String id = wf();
        entryPoint.run(this, DatasourceOptions.named("given-name"), id, sql -> "done");
        assertEquals(1, db().count("SELECT COUNT(*) FROM " + db().outputs() + " WHERE workflow_id = '" + id
                + "' AND step_id = 0 AND step_name = 'given-name'"), entry);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("entryPoints")
    void theStepRunsAtTheGivenIsolationLevel(String entry, EntryPoint entryPoint) {
        for (IsolationLevel level : IsolationLevel.values()) {
            String seen = entryPoint.run(this, new DatasourceOptions("level", level), wf(),
                    sql -> sql.read(db().isolationQuery()));
            assertEquals(level.sql().toLowerCase(Locale.ROOT), seen.toLowerCase(Locale.ROOT).replace('-', ' '),
                    entry + " at " + level);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("entryPoints")
    void aReadOnlyStepRecordsNothingAndIsRefusedWrites(String entry, EntryPoint entryPoint) {
        String id = wf();
        DatasourceOptions readOnly = new DatasourceOptions("read-only", IsolationLevel.READ_COMMITTED).asReadOnly();
        Probe write = sql -> {
            sql.write("INSERT INTO " + db().q("effects") + " VALUES ('" + UUID.randomUUID() + "')");
            return "wrote";
        };
        if (enforcesReadOnly()) {
            assertThrows(RuntimeException.class, () -> entryPoint.run(this, readOnly, id, write), entry);
            assertEquals(0, db().count("SELECT COUNT(*) FROM " + db().q("effects")), entry + ": the write was refused");
        } else {
            assertEquals("wrote", entryPoint.run(this, readOnly, id, write), entry);
        }
        assertEquals("read", entryPoint.run(this, readOnly, id, sql -> "read"), entry);
        assertEquals(0, db().count("SELECT COUNT(*) FROM " + db().outputs() + " WHERE workflow_id = '" + id + "'"),
                entry + ": a read-only step records nothing");
    }

    private static Mono<String> reactive(TxSession tx, Probe probe) {
        // The probe's statements are blocking calls on the reactive session, run on a worker thread:
        // one probe serves both facades.
        return Mono.fromCallable(() -> probe.run(new SqlRunner() {
            @Override
            public void write(String sql) {
                tx.execute(sql).block();
            }

            @Override
            public String read(String sql) {
                return tx.query(sql, (row, meta) -> row.get(0, String.class)).blockFirst();
            }
        })).subscribeOn(Schedulers.boundedElastic());
    }

    private static SqlRunner blocking(BlockingTxSession tx) {
        return new SqlRunner() {
            @Override
            public void write(String sql) {
                tx.execute(sql);
            }

            @Override
            public String read(String sql) {
                return tx.query(sql, (row, meta) -> row.get(0, String.class)).get(0);
            }
        };
    }

    private static String wf() {
        return "opt-" + UUID.randomUUID();
    }

    private TestSchema db() {
        return new TestSchema(url, schema);
    }
}
