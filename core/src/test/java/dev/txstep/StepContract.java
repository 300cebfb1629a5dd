package dev.txstep;

import static dev.txstep.testing.Workflows.inWorkflow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.txstep.testing.SqlStates;
import dev.txstep.testing.TestDatabases;
import dev.txstep.testing.TestSchema;
import io.r2dbc.pool.ConnectionPool;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * The step semantics of DESIGN.md, proven by counting rows. Runs once per database: each subclass
 * says where the database is. Each test gets its own schema (or in-memory database) and its own
 * workflow ids.
 */
abstract class StepContract {

    protected String url;
    protected String schema;
    protected AsyncDatasource ds;

    /** The R2DBC URL of the database under test; a fresh one per test where that is cheap. */
    protected abstract String databaseUrl();

    @BeforeEach
    void createDatasource() {
        url = databaseUrl();
        schema = TestDatabases.uniqueSchema("t");
        ds = AsyncDatasource.create(DatasourceConfig.builder().url(url).schema(schema).maxPoolSize(8)
                .retryPolicy(RetryPolicy.defaults().withMaxAttempts(20)).build()).block();
        db().createCounter();
        db().exec("CREATE TABLE " + db().q("effects") + " (id VARCHAR(64) PRIMARY KEY, note VARCHAR(200))");
    }

    @AfterEach
    void closeDatasource() {
        if (ds != null) {
            ds.close().block(Duration.ofSeconds(30));
        }
        db().drop();
    }

    // ---- helpers ----






    protected long recorded(String workflowId) {
        return db().count("SELECT COUNT(*) FROM " + db().outputs() + " WHERE workflow_id = '" + workflowId + "'");
    }

    /** A step that bumps the counter, writes one effect row and returns the counter's new value. */
    protected Mono<Integer> bump(String name) {
        return ds.runTxStepAsync(DatasourceOptions.named(name), s -> s.execute(
                        "UPDATE " + db().q("counter") + " SET n = n + 1 WHERE id = 1")
                .then(s.execute("INSERT INTO " + db().q("effects") + " VALUES (" + db().param(1) + ", " + db().param(2) + ")", UUID.randomUUID().toString(), name))
                .then(s.query("SELECT n FROM " + db().q("counter") + " WHERE id = 1", (row, meta) -> row.get(0, Integer.class))
                        .single()));
    }

    protected static String wf() {
        return "wf-" + UUID.randomUUID();
    }

    // ---- the tests ----

    @Test
    void bareRunOutsideAWorkflowCommitsAndRecordsNothing() {
        Integer n = bump("bare").block();
        assertEquals(1, n);
        assertEquals(1, db().counter());
        assertEquals(0, db().count("SELECT COUNT(*) FROM " + db().outputs()));
    }

    @Test
    void wrappedFunctionRunsAsAStepPerCall() {
        var add = ds.<Integer, Long>transaction(DatasourceOptions.named("add"),
                (s, by) -> s.execute("UPDATE " + db().q("counter") + " SET n = n + " + db().param(1) + " WHERE id = 1", by));
        String id = wf();
        Long updated = inWorkflow(id, add.apply(5).then(add.apply(7))).block();
        assertEquals(1L, updated);
        assertEquals(12, db().counter());
        assertEquals(2, recorded(id));
        // replay: the wrapped function does not run again
        inWorkflow(id, add.apply(5).then(add.apply(7))).block();
        assertEquals(12, db().counter());
        assertEquals(2, recorded(id));
    }

    @Test
    void aPublisherOfAPublisherIsRefusedRolledBackAndNotRecorded() {
        String id = wf();
        // The inner Mono is work for later: run after the commit, outside the step's transaction.
        Mono<Mono<Long>> nested = ds.runTxStepAsync(DatasourceOptions.named("nested"), s -> s.execute(
                "UPDATE " + db().q("counter") + " SET n = n + 1 WHERE id = 1").map(n -> s.execute("SELECT 1")));
        InvalidInputException inside = assertThrows(InvalidInputException.class, () -> inWorkflow(id, nested).block());
        assertTrue(inside.getMessage().contains("flatMap"), inside.getMessage());
        assertThrows(InvalidInputException.class, nested::block);
        assertEquals(0, db().counter(), "rolled back");
        assertEquals(0, recorded(id), "nothing recorded");
    }

    @Test
    void aDefectOfTheCallingCodeIsNotRecordedSoTheFixedCodeRuns() {
        String id = wf();
        String count = "SELECT COUNT(*) FROM " + db().q("counter");
        // A column read as a type it cannot be decoded to: txstep's own typed error, not recorded.
        Mono<Object> misread = ds.runTxStepAsync(DatasourceOptions.named("count"),
                s -> s.query(count, (row, meta) -> (Object) row.get(0, UUID.class)).single());
        InvalidInputException decoding = assertThrows(InvalidInputException.class, () -> inWorkflow(id, misread).block());
        assertTrue(decoding.getMessage().contains("cannot be read as java.util.UUID"), decoding.getMessage());
        // A NullPointerException in the function: raised as it is, not recorded.
        Mono<Object> npe = ds.runTxStepAsync(DatasourceOptions.named("count"), s -> {
            String missing = null;
            return Mono.just(missing.length());
        });
        assertThrows(NullPointerException.class, () -> inWorkflow(id, npe).block());
        assertEquals(0, recorded(id), "neither defect was recorded as the step's outcome");

        // The fixed code runs, under the same workflow id, and its output is what is recorded.
        Mono<Object> fixed = ds.runTxStepAsync(DatasourceOptions.named("count"),
                s -> s.query(count, (row, meta) -> (Object) row.get(0, Long.class)).single());
        assertEquals(1L, inWorkflow(id, fixed).block());
        assertEquals(1L, inWorkflow(id, misread).block(), "replayed: recorded");
        assertEquals(1, recorded(id));
    }

    @Test
    void aPrunedStepRunsAgainWhileTheOthersStillReplay() {
        String id = wf();
        Mono<Integer> failing = ds.runTxStepAsync(DatasourceOptions.named("settle"),
                s -> Mono.error(new IllegalStateException("a bug since fixed")));
        assertThrows(IllegalStateException.class, () -> inWorkflow(id, bump("first").then(failing)).block());
        RecordedStepException recorded = assertThrows(RecordedStepException.class,
                () -> inWorkflow(id, bump("first").then(failing)).block());
        assertEquals(new StepKey(id, 1), recorded.key());

        assertEquals(Boolean.TRUE, ds.pruneStep(recorded.key()).block());
        assertEquals(Boolean.FALSE, ds.pruneStep(recorded.key()).block(), "gone");
        Mono<Integer> fixed = ds.runTxStepAsync(DatasourceOptions.named("settle"), s -> Mono.just(7));
        assertEquals(7, inWorkflow(id, bump("first").then(fixed)).block());
        assertEquals(1, db().counter(), "the first step replayed");
        assertEquals(2, recorded(id));
    }

    @Test
    void isolationLevelIsApplied() {
        Map<IsolationLevel, String> expected = isolationNames();
        for (IsolationLevel level : IsolationLevel.values()) {
            String seen = ds.runTxStepAsync(new DatasourceOptions("iso", level),
                            s -> s.query(db().isolationQuery(),
                                    (row, meta) -> row.get(0, String.class)).single())
                    .block();
            assertEquals(expected.get(level), seen.toLowerCase(java.util.Locale.ROOT), "level " + level);
        }
    }

    /** How the database names each level when asked. */
    protected abstract Map<IsolationLevel, String> isolationNames();

    @Test
    void defaultIsolationIsSerializable() {
        String seen = ds.runTxStepAsync(s -> s.query(db().isolationQuery(),
                (row, meta) -> row.get(0, String.class)).single()).block();
        assertEquals(isolationNames().get(IsolationLevel.SERIALIZABLE), seen.toLowerCase(java.util.Locale.ROOT));
    }

    @Test
    void sqlSessionOutsideAStepErrors() {
        assertThrows(NoTransactionException.class, () -> ds.sqlSession().block());
    }

    @Test
    void sqlSessionInsideAStepIsTheStepsTransaction() {
        String id = wf();
        Long updated = inWorkflow(id, ds.runTxStepAsync(DatasourceOptions.named("via-session"),
                        s -> ds.sqlSession().flatMap(session -> {
                            assertTrue(session == s, "sqlSession() is the step's own session");
                            return session.execute("UPDATE " + db().q("counter") + " SET n = n + 1 WHERE id = 1");
                        })))
                .block();
        assertEquals(1L, updated);
        assertEquals(1, db().counter());
    }

    @Test
    void aRecordedStepRunsOnceAcrossReplays() {
        String id = wf();
        Mono<List<Integer>> workflow = Flux.range(0, 3).concatMap(i -> bump("step" + i)).collectList();
        List<Integer> first = inWorkflow(id, workflow).block();
        List<Integer> second = inWorkflow(id, workflow).block();
        assertEquals(List.of(1, 2, 3), first);
        assertEquals(first, second, "replay returns the recorded outputs");
        assertEquals(3, db().counter(), "each step's effect happened once");
        assertEquals(3, db().count("SELECT COUNT(*) FROM " + db().q("effects")));
        assertEquals(3, recorded(id));
        assertEquals(List.of(0L, 1L, 2L), List.of(
                db().count("SELECT MIN(step_id) FROM " + db().outputs() + " WHERE workflow_id = '" + id + "'"),
                db().count("SELECT step_id FROM " + db().outputs() + " WHERE workflow_id = '" + id + "' AND step_name = 'step1'"),
                db().count("SELECT MAX(step_id) FROM " + db().outputs() + " WHERE workflow_id = '" + id + "'")));
    }

    @Test
    void firstExecutionsAndReplaysNeedNoRetryAtAnyIsolationLevel() {
        // With retries off, any failure on the normal paths (the execution's first step loading the
        // recorded ids as it begins, later steps, a replay whose first step finds itself recorded)
        // would surface instead of being papered over by a retry.
        AsyncDatasource strict = AsyncDatasource.create(DatasourceConfig.builder().url(url).schema(schema)
                .migrate(false).retryPolicy(RetryPolicy.none()).build()).block();
        try {
            for (IsolationLevel level : IsolationLevel.values()) {
                String id = wf();
                Mono<List<String>> workflow = Flux.range(0, 3).concatMap(i -> strict.runTxStepAsync(
                        new DatasourceOptions("s" + i, level), s -> s.query(db().isolationQuery(), (row, meta) -> row.get(0, String.class)).single()
                                .flatMap(seen -> s.execute("UPDATE " + db().q("counter") + " SET n = n + 1 WHERE id = 1")
                                        .thenReturn(seen.toLowerCase(java.util.Locale.ROOT)))))
                        .collectList();
                String expected = isolationNames().get(level);
                assertEquals(List.of(expected, expected, expected), inWorkflow(id, workflow).block(), "level " + level);
                assertEquals(List.of(expected, expected, expected), inWorkflow(id, workflow).block(), "replay " + level);
                assertEquals(3, recorded(id));
            }
            assertEquals(9, db().counter(), "three steps per level, each once");
        } finally {
            strict.close().block();
        }
    }

    @Test
    void hostileTextTravelsIntactInIdsNamesAndOutputs() {
        // Workflow ids, step names and outputs are sent as SQL literals (see OutputStore.insertAndCommit):
        // quotes, dollar tags, backslashes and statement separators must arrive as they were.
        List<String> hostile = List.of("it's", "$$", "$t1$", "$t$ ; DROP TABLE x; --", "back\\slash \\' end",
                "'); DELETE FROM " + db().q("counter") + "; --", "tab\tnew\nline", "émoji ✓ 🚀", "\"quoted\"",
                "costs $1 or $2", "what?", ":name");
        for (String text : hostile) {
            String id = "wf-" + text + "-" + UUID.randomUUID();
            Mono<String> step = ds.runTxStepAsync(DatasourceOptions.named("name " + text),
                    s -> s.execute("UPDATE " + db().q("counter") + " SET n = n + 1 WHERE id = 1").thenReturn(text));
            assertEquals(text, inWorkflow(id, step).block(), "first run of " + text);
            assertEquals(text, inWorkflow(id, step).block(), "replay of " + text);
            try (var c = TestDatabases.jdbc(url); var st = c.prepareStatement("SELECT step_name, output FROM "
                    + db().outputs() + " WHERE workflow_id = ? AND step_id = 0")) {
                st.setString(1, id);
                var rs = st.executeQuery();
                assertTrue(rs.next(), "recorded under the exact id " + id);
                assertEquals("name " + text, rs.getString(1));
                assertTrue(rs.getString(2).contains(text.replace("\\", "\\\\").replace("\"", "\\\"")
                        .replace("\t", "\\t").replace("\n", "\\n")), rs.getString(2));
            } catch (java.sql.SQLException e) {
                throw new AssertionError(e);
            }
        }
        assertEquals(hostile.size(), db().counter(), "each step ran once");
        assertEquals(hostile.size(), db().count("SELECT COUNT(*) FROM " + db().outputs()));
    }

    @Test
    void outputsOfEverySizeAreRecordedOnceAndReplayIntact() {
        // On PostgreSQL a short output travels as a literal in COMMIT's message and a long one as a
        // bound value before it (OutputInserts.BOUND_FROM_CHARS, 8 KiB): sizes on both sides, each
        // full of what a literal must escape, record once and replay as written.
        String unit = "it's $$ $t$ \\' ; -- émoji ✓ \"q\" ";
        List<Integer> sizes = List.of(100, 4_000, 9_000, 64_000, 300_000);
        for (int size : sizes) {
            String text = unit.repeat(size / unit.length() + 1).substring(0, size);
            String id = wf();
            Mono<String> step = ds.runTxStepAsync(DatasourceOptions.named("sized"),
                    s -> s.execute("UPDATE " + db().q("counter") + " SET n = n + 1 WHERE id = 1").thenReturn(text));
            assertEquals(text, inWorkflow(id, step).block(), "first run of " + size + " characters");
            assertEquals(text, inWorkflow(id, step).block(), "replay of " + size + " characters");
            assertEquals(1, recorded(id), "one row for " + size + " characters");
        }
        assertEquals(sizes.size(), db().counter(), "each step ran once");
    }

    @Test
    void aReadOnlyStepTakesItsIdRecordsNothingAndRunsAgainOnReplay() {
        String id = wf();
        AtomicInteger reads = new AtomicInteger();
        Mono<Integer> read = ds.runTxStepAsync(DatasourceOptions.named("read").asReadOnly(), s -> {
            reads.incrementAndGet();
            return s.query("SELECT n FROM " + db().q("counter") + " WHERE id = 1", (row, meta) -> row.get(0, Integer.class))
                    .single();
        });
        Mono<List<Integer>> workflow = Flux.concat(bump("a"), read, bump("b")).collectList();
        assertEquals(List.of(1, 1, 2), inWorkflow(id, workflow).block());
        assertEquals(List.of(0L, 2L), List.of(
                db().count("SELECT step_id FROM " + db().outputs() + " WHERE workflow_id = '" + id + "' AND step_name = 'a'"),
                db().count("SELECT step_id FROM " + db().outputs() + " WHERE workflow_id = '" + id + "' AND step_name = 'b'")),
                "the read-only step took id 1 without recording it");
        assertEquals(2, recorded(id));
        // Replay: the recorded steps replay, the read-only one runs again and sees the current value.
        assertEquals(List.of(1, 2, 2), inWorkflow(id, workflow).block());
        assertEquals(2, reads.get());
        assertEquals(2, db().counter());
    }

    @Test
    void aReadOnlyStepCannotWriteWhereTheDatabaseEnforcesIt() {
        Mono<Long> write = ds.runTxStepAsync(DatasourceOptions.named("sneaky").asReadOnly(),
                s -> s.execute("UPDATE " + db().q("counter") + " SET n = n + 1 WHERE id = 1"));
        if (enforcesReadOnly()) {
            Throwable error = assertThrows(RuntimeException.class, () -> inWorkflow(wf(), write).block());
            assertEquals("25006", SqlStates.sqlState(error), "read-only transaction: " + error);
            assertEquals(0, db().counter());
        } else {
            assertEquals(1L, inWorkflow(wf(), write).block());
        }
        assertEquals(0, db().count("SELECT COUNT(*) FROM " + db().outputs()), "nothing recorded either way");
    }

    /** Whether the database refuses writes in a read-only transaction (H2 has none). */
    protected boolean enforcesReadOnly() {
        return true;
    }

    @Test
    void pruningDeletesOldOutputsInBatchesAndFinishedWorkflowsOnly() throws Exception {
        String kept = wf();
        String finished = wf();
        Mono<List<Integer>> threeSteps = Flux.range(0, 3).concatMap(i -> bump("s" + i)).collectList();
        inWorkflow(kept, threeSteps).block();
        inWorkflow(finished, threeSteps).block();
        // 2 500 rows recorded long ago: more than two batches of 1 000.
        int old = 2_500;
        try (var c = TestDatabases.jdbc(url); var st = c.prepareStatement("INSERT INTO " + db().outputs()
                + " (workflow_id, step_id, step_name, output, serialization, created_at) VALUES (?, ?, 'old', '1', 'jackson', ?)")) {
            for (int i = 0; i < old; i++) {
                st.setString(1, "old-" + (i / 10));
                st.setInt(2, i % 10);
                st.setLong(3, 1_000L + i);
                st.addBatch();
            }
            st.executeBatch();
        }
        assertEquals(old, ds.pruneOlderThan(Duration.ofHours(1)).block());
        assertEquals(6, db().count("SELECT COUNT(*) FROM " + db().outputs()), "recent outputs stay");
        assertEquals(0L, ds.pruneOlderThan(Duration.ofHours(1)).block(), "nothing old is left");

        assertEquals(3L, ds.pruneWorkflows(List.of(finished, "never-ran")).block());
        assertEquals(3, recorded(kept));
        assertEquals(0, recorded(finished));
        // A pruned workflow is forgotten: replayed, its steps run again; the kept one replays.
        inWorkflow(kept, threeSteps).block();
        assertEquals(6, db().counter());
        inWorkflow(finished, threeSteps).block();
        assertEquals(9, db().counter());

        assertThrows(InvalidInputException.class, () -> ds.pruneOlderThan(Duration.ofSeconds(-1)).block());
        assertThrows(InvalidInputException.class, () -> ds.pruneWorkflows(java.util.Arrays.asList("x", null)).block());
        assertThrows(InvalidInputException.class, () -> ds.pruneWorkflows(List.of(" ")).block());
    }

    @Test
    void partiallyRecordedWorkflowRunsOnlyTheRest() {
        String id = wf();
        inWorkflow(id, bump("a").then(bump("b"))).block();
        List<Integer> all = inWorkflow(id, Flux.concat(bump("a"), bump("b"), bump("c"), bump("d")).collectList()).block();
        assertEquals(List.of(1, 2, 3, 4), all);
        assertEquals(4, db().counter());
        assertEquals(4, recorded(id));
    }

    @Test
    void anEmptyOutputReplaysAsEmpty() {
        String id = wf();
        Mono<Object> empty = ds.runTxStepAsync(DatasourceOptions.named("empty"),
                s -> s.execute("UPDATE " + db().q("counter") + " SET n = n + 1 WHERE id = 1").then(Mono.empty()));
        assertNull(inWorkflow(id, empty).block());
        assertNull(inWorkflow(id, empty).block());
        assertEquals(1, db().counter());
        assertEquals(1, db().count("SELECT COUNT(*) FROM " + db().outputs() + " WHERE workflow_id = '" + id + "' AND output IS NULL"));
    }

    @Test
    void aFunctionErrorIsRecordedAndReplayedWithoutRunningAgain() {
        String id = wf();
        AtomicInteger calls = new AtomicInteger();
        Mono<Long> failing = ds.runTxStepAsync(DatasourceOptions.named("fails"), s -> {
            calls.incrementAndGet();
            return s.execute("UPDATE " + db().q("counter") + " SET n = n + 1 WHERE id = 1")
                    .then(Mono.error(new IllegalStateException("insufficient funds")));
        });
        IllegalStateException first = assertThrows(IllegalStateException.class, () -> inWorkflow(id, failing).block());
        assertEquals("insufficient funds", first.getMessage());
        RecordedStepException replayed = assertThrows(RecordedStepException.class, () -> inWorkflow(id, failing).block());
        assertEquals(IllegalStateException.class.getName(), replayed.errorType());
        assertEquals("insufficient funds", replayed.errorMessage());
        assertInstanceOf(IllegalStateException.class, replayed.getCause());
        assertEquals(1, calls.get(), "the function ran once");
        assertEquals(0, db().counter(), "its writes were rolled back");
        assertEquals(1, db().count("SELECT COUNT(*) FROM " + db().outputs() + " WHERE workflow_id = '" + id + "' AND error IS NOT NULL"));
    }

    @Test
    void theFunctionsOwnConstraintViolationIsItsRecordedError() {
        String id = wf();
        db().exec("INSERT INTO " + db().q("effects") + " VALUES ('taken', 'x')");
        Mono<Long> duplicate = ds.runTxStepAsync(DatasourceOptions.named("dup"),
                s -> s.execute("INSERT INTO " + db().q("effects") + " VALUES ('taken', 'y')"));
        Throwable first = assertThrows(RuntimeException.class, () -> inWorkflow(id, duplicate).block());
        assertTrue(SqlStates.isUniqueViolation(first), "a unique violation: " + first);
        assertThrows(RecordedStepException.class, () -> inWorkflow(id, duplicate).block());
        assertEquals(1, recorded(id));
    }

    @Test
    void aDifferentNameOnReplayIsNonDeterminismAndRunsNothing() {
        String id = wf();
        inWorkflow(id, bump("original")).block();
        NonDeterminismException e = assertThrows(NonDeterminismException.class,
                () -> inWorkflow(id, bump("renamed")).block());
        assertEquals(new StepKey(id, 0), e.key());
        assertEquals("original", e.recordedName());
        assertEquals("renamed", e.requestedName());
        assertEquals(1, db().counter());
    }

    @Test
    void effectsAndOutputCommitTogetherOrNotAtAll() {
        String id = wf();
        // The function writes, then returns a value that cannot be serialized: the step must roll back.
        Mono<Object> unserializable = ds.runTxStepAsync(DatasourceOptions.named("unserializable"),
                s -> s.execute("UPDATE " + db().q("counter") + " SET n = n + 1 WHERE id = 1").thenReturn(new Object()));
        assertThrows(OutputSerializationException.class, () -> inWorkflow(id, unserializable).block());
        assertEquals(0, db().counter());
        assertEquals(0, recorded(id));
        // A publisher of two values fails the step the same way.
        Mono<Object> two = ds.runTxStepAsync(DatasourceOptions.named("two"),
                s -> s.execute("UPDATE " + db().q("counter") + " SET n = n + 1 WHERE id = 1").thenMany(Flux.just(1, 2)));
        assertThrows(InvalidInputException.class, () -> inWorkflow(id, two).block());
        assertEquals(0, db().counter());
        assertEquals(0, recorded(id));
    }

    @Test
    void concurrentSerializableStepsRetryRealSerializationFailures() {
        // Read-modify-write of one row from many SERIALIZABLE transactions at once: the database
        // aborts all but one of each conflicting set (40001 / H2's concurrent-update); each aborted
        // step is retried until it commits. The final value counts every success exactly once.
        int steps = 8;
        CountDownLatch allRead = new CountDownLatch(steps);
        AtomicInteger attempts = new AtomicInteger();
        List<Mono<Integer>> all = new ArrayList<>();
        for (int i = 0; i < steps; i++) {
            String id = wf();
            all.add(inWorkflow(id, ds.<Integer>runTxStepAsync(DatasourceOptions.named("rmw"), s -> {
                attempts.incrementAndGet();
                return s.query("SELECT n FROM " + db().q("counter") + " WHERE id = 1", (row, meta) -> row.get(0, Integer.class))
                        .single()
                        .flatMap(n -> {
                            allRead.countDown();
                            // Let every first attempt read before any writes, so conflicts are certain.
                            return Mono.fromCallable(() -> allRead.await(2, TimeUnit.SECONDS))
                                    .subscribeOn(Schedulers.boundedElastic())
                                    .then(s.execute("UPDATE " + db().q("counter") + " SET n = " + db().param(1) + " WHERE id = 1", n + 1))
                                    .thenReturn(n + 1);
                        });
            })).subscribeOn(Schedulers.parallel()));
        }
        List<Integer> results = Flux.merge(all).collectList().block(Duration.ofSeconds(60));
        assertEquals(steps, results.size());
        assertEquals(steps, db().counter(), "every successful step incremented once");
        assertTrue(attempts.get() > steps, "serialization failures happened and were retried: attempts=" + attempts.get());
        assertEquals(0, db().count("SELECT COUNT(*) FROM " + db().outputs() + " WHERE error IS NOT NULL"),
                "no serialization failure was recorded as a step error");
        assertEquals(steps, db().count("SELECT COUNT(*) FROM " + db().outputs()));
    }

    @Test
    void twoConcurrentExecutorsOfOneWorkflowCommitOnceAndAgree() {
        String id = wf();
        Mono<List<Integer>> workflow = Flux.range(0, 20).concatMap(i -> bump("s" + i)).collectList();
        List<List<Integer>> results = Flux.merge(
                        inWorkflow(id, workflow).subscribeOn(Schedulers.parallel()),
                        inWorkflow(id, workflow).subscribeOn(Schedulers.parallel()))
                .collectList().block(Duration.ofSeconds(60));
        assertEquals(results.get(0), results.get(1), "both executors return the same outputs");
        assertEquals(20, db().counter(), "each step's effect happened once");
        assertEquals(20, db().count("SELECT COUNT(*) FROM " + db().q("effects")));
        assertEquals(20, recorded(id));
    }

    @Test
    void cancellationRollsBackAndReleasesConnections() throws Exception {
        ConnectionPool pool = (ConnectionPool) ds.connectionFactory();
        for (int i = 0; i < 20; i++) {
            String id = wf();
            CountDownLatch inside = new CountDownLatch(1);
            var subscription = inWorkflow(id, ds.runTxStepAsync(DatasourceOptions.named("slow"),
                    s -> s.execute("UPDATE " + db().q("counter") + " SET n = n + 1 WHERE id = 1")
                            .doOnSuccess(x -> inside.countDown())
                            .then(Mono.delay(Duration.ofSeconds(30))))).subscribe();
            assertTrue(inside.await(10, TimeUnit.SECONDS));
            subscription.dispose();
        }
        waitUntil(() -> pool.getMetrics().orElseThrow().acquiredSize() == 0, "all connections released");
        assertEquals(0, db().counter(), "cancelled steps rolled back");
        assertEquals(0, db().count("SELECT COUNT(*) FROM " + db().outputs()));
        // The pool still works.
        assertEquals(1, bump("after").block());
    }

    @Test
    void everyPathReleasesItsConnection() {
        ConnectionPool pool = (ConnectionPool) ds.connectionFactory();
        String id = wf();
        inWorkflow(id, bump("ok")).block();
        inWorkflow(id, bump("ok")).block();
        assertThrows(IllegalStateException.class, () -> inWorkflow(wf(), ds.runTxStepAsync(DatasourceOptions.named("e"),
                s -> Mono.error(new IllegalStateException("x")))).block());
        assertThrows(NonDeterminismException.class, () -> inWorkflow(id, bump("other")).block());
        assertThrows(OutputSerializationException.class, () -> inWorkflow(wf(), ds.runTxStepAsync(
                DatasourceOptions.named("u"), s -> Mono.just(new Object()))).block());
        waitUntil(() -> pool.getMetrics().orElseThrow().acquiredSize() == 0, "all connections released");
    }

    @Test
    void closeRefusesNewStepsAndWaitsForRunningOnes() throws Exception {
        CountDownLatch inside = new CountDownLatch(1);
        var running = ds.runTxStepAsync(DatasourceOptions.named("long"),
                s -> s.execute("UPDATE " + db().q("counter") + " SET n = n + 1 WHERE id = 1")
                        .doOnSuccess(x -> inside.countDown())
                        .then(Mono.delay(Duration.ofMillis(300))).thenReturn(1)).toFuture();
        assertTrue(inside.await(10, TimeUnit.SECONDS));
        ds.close().block(Duration.ofSeconds(30));
        assertEquals(1, running.get(10, TimeUnit.SECONDS), "the running step finished");
        assertEquals(1, db().counter());
        assertThrows(DatasourceClosedException.class, () -> bump("late").block());
        ds = null;
    }

    @Test
    void aCancelledStepCancelsItsFunctionAndDoesNotHoldUpClose() throws Exception {
        CountDownLatch inside = new CountDownLatch(1);
        AtomicBoolean functionCancelled = new AtomicBoolean();
        var subscription = inWorkflow(wf(), ds.runTxStepAsync(DatasourceOptions.named("forever"),
                s -> s.execute("UPDATE " + db().q("counter") + " SET n = n + 1 WHERE id = 1")
                        .doOnSuccess(x -> inside.countDown())
                        .then(Mono.never())
                        .doOnCancel(() -> functionCancelled.set(true)))).subscribe();
        assertTrue(inside.await(10, TimeUnit.SECONDS));
        subscription.dispose();
        waitUntil(functionCancelled::get, "the function's publisher was cancelled");
        // close() waits for the steps it admitted: a cancelled one must count as ended.
        ds.close().block(Duration.ofSeconds(10));
        ds = null;
        assertEquals(0, db().counter(), "the cancelled step rolled back");
        assertEquals(0, db().count("SELECT COUNT(*) FROM " + db().outputs()));
    }

    protected static void waitUntil(java.util.function.BooleanSupplier condition, String what) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting: " + what);
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }

    /** This test's schema, for JDBC checks. */
    protected TestSchema db() {
        return new TestSchema(url, schema);
    }
}
