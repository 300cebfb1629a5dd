package dev.txstep;

import static dev.txstep.testing.ThreadBoundWorkflows.inScope;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.txstep.serialization.JacksonSerializer;
import dev.txstep.spi.WorkflowScope;
import dev.txstep.testing.TestDatabases;
import dev.txstep.testing.TestSchema;
import dev.txstep.testing.ThreadBoundWorkflows;
import io.r2dbc.pool.ConnectionPool;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The blocking facade, {@link BlockingDatasource}, against a real database (each subclass says
 * which). It proves that the facade is the same step machinery seen synchronously:
 * <ul>
 *   <li>{@code runTxStep} and {@code transaction(...)} commit and return the function's value, and
 *       roll back when the function throws, which the caller sees as the very exception thrown;</li>
 *   <li>{@code sqlSession()} is the running step's own session inside the function and
 *       {@link NoTransactionException} anywhere else;</li>
 *   <li>the isolation level asked for is the one the transaction runs at;</li>
 *   <li>a workflow held in a thread-bound value registered with micrometer context-propagation (what
 *       the reactor adapter's {@code Workflow.runBlocking} does; core's tests cannot depend on the
 *       adapter, so the test registers its own {@code ThreadLocal<WorkflowScope>}) reaches the step:
 *       steps get ids 0,1,2, a second run replays them without effects, and eight workflows run at
 *       once from eight threads each get their own ids 0..n-1.</li>
 * </ul>
 */
abstract class BlockingDatasourceTest {

    protected String url;
    protected String schema;
    protected AsyncDatasource async;
    protected BlockingDatasource ds;
    /** The test's own thread-bound workflow scope, as the reactor adapter keeps one. */
    private ThreadBoundWorkflows threadBound;

    /** The R2DBC URL of the database under test; a fresh one per test where that is cheap. */
    protected abstract String databaseUrl();

    /** Thrown by step functions: a type of the test's own, so "the same type" means something. */
    public static class InsufficientFundsException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        public InsufficientFundsException(String message) {
            super(message);
        }
    }

    /** An {@code Error} of the test's own, thrown by a step function. */
    public static class LedgerCorruptedError extends Error {
        private static final long serialVersionUID = 1L;

        public LedgerCorruptedError(String message) {
            super(message);
        }
    }

    @BeforeEach
    void createDatasource() {
        threadBound = ThreadBoundWorkflows.register();
        url = databaseUrl();
        schema = TestDatabases.uniqueSchema("blk");
        // Short backoffs: the concurrency test retries real conflicts, and nothing here waits on purpose.
        // The test's own exception type is trusted, so a replay rebuilds it as the recorded error's cause.
        async = AsyncDatasource.create(DatasourceConfig.builder().url(url).schema(schema).maxPoolSize(12)
                .serializer(JacksonSerializer.builder().allowTypes(InsufficientFundsException.class).build())
                .retryPolicy(RetryPolicy.defaults().withMaxAttempts(20)
                        .withBackoff(Duration.ofMillis(1), Duration.ofMillis(50)))
                .build()).block(Duration.ofSeconds(60));
        ds = BlockingDatasource.wrap(async);
        db().createCounter();
        db().exec("CREATE TABLE " + db().q("effects") + " (id VARCHAR(64) PRIMARY KEY, note VARCHAR(200))");
    }

    @AfterEach
    void closeDatasource() {
        try {
            if (ds != null) {
                ds.close();
            }
            db().drop();
        } finally {
            threadBound.close();
        }
    }

    // ---------------------------------------------------------------- plain steps

    @Test
    void runTxStepCommitsAndReturnsTheFunctionsValue() {
        Integer n = ds.runTxStep(DatasourceOptions.named("bump"), s -> bump(s, "bump"));
        assertEquals(1, n);
        assertEquals(1, db().counter(), "committed: visible to another connection");
        assertEquals(1, db().count("SELECT COUNT(*) FROM " + db().q("effects")));
        // Outside a workflow a step is a plain transaction: nothing is recorded.
        assertEquals(0, db().count("SELECT COUNT(*) FROM " + db().outputs()));
        // The default-options overload and a null result.
        Object nothing = ds.runTxStep(s -> {
            s.execute("UPDATE " + db().q("counter") + " SET n = n + 10 WHERE id = 1");
            return null;
        });
        assertNull(nothing);
        assertEquals(11, db().counter());
    }

    @Test
    void theSessionIsTheStepsTransaction() {
        // Two statements in one step see each other's uncommitted writes, and the session has no key
        // outside a workflow.
        List<Object> seen = ds.runTxStep(DatasourceOptions.named("one-tx"), s -> {
            s.execute("UPDATE " + db().q("counter") + " SET n = 41 WHERE id = 1");
            s.execute("UPDATE " + db().q("counter") + " SET n = n + 1 WHERE id = 1");
            return List.of(s.query("SELECT n FROM " + db().q("counter") + " WHERE id = 1",
                    (row, meta) -> row.get(0, Integer.class)).get(0), s.stepKey());
        });
        assertEquals(List.of(42, Optional.empty()), seen);
        assertEquals(42, db().counter());
    }

    @Test
    void transactionWrapsAFunctionAsAStepPerCall() {
        Function<Integer, Long> add = ds.transaction(DatasourceOptions.named("add"),
                (s, by) -> s.execute("UPDATE " + db().q("counter") + " SET n = n + " + db().param(1) + " WHERE id = 1", by));
        assertEquals(1L, add.apply(5));
        assertEquals(1L, add.apply(7));
        assertEquals(12, db().counter());

        // In a workflow each call is a step; a replay returns the recorded values without running.
        String id = wf();
        List<Long> first = inScope(id, () -> List.of(add.apply(100), add.apply(1000)));
        List<Long> again = inScope(id, () -> List.of(add.apply(100), add.apply(1000)));
        assertEquals(List.of(1L, 1L), first);
        assertEquals(first, again);
        assertEquals(1112, db().counter(), "each call's effect happened once");
        assertEquals(List.of("0:add", "1:add"), recordedSteps(id));
    }

    @Test
    void defaultNamesAreTheDeclaringMethod() {
        // Null options: the step's name is the method that declared it (this one), recorded as such.
        String id = wf();
        Function<Integer, Integer> wrapped = ds.transaction(null, (s, x) -> x);
        inScope(id, () -> List.of(ds.runTxStep(s -> 1), wrapped.apply(2)));
        String method = BlockingDatasourceTest.class.getName() + ".defaultNamesAreTheDeclaringMethod";
        assertEquals(List.of("0:" + method, "1:" + method), recordedSteps(id));
    }

    // ---------------------------------------------------------------- sqlSession()

    @Test
    void sqlSessionInsideTheFunctionIsTheStepsSessionAndOutsideIsNoTransaction() {
        NoTransactionException before = assertThrows(NoTransactionException.class, () -> ds.sqlSession());
        assertTrue(before.getMessage().contains("outside a transaction step"), before.getMessage());

        List<BlockingTxSession> sessions = new ArrayList<>();
        Long updated = ds.runTxStep(DatasourceOptions.named("via-session"), s -> {
            BlockingTxSession current = ds.sqlSession();
            sessions.add(s);
            sessions.add(current);
            // Code deep in the call stack uses sqlSession() instead of being handed the session.
            return current.execute("UPDATE " + db().q("counter") + " SET n = n + 1 WHERE id = 1");
        });
        assertEquals(1L, updated);
        assertSame(sessions.get(0), sessions.get(1), "sqlSession() is the session given to the function");
        assertEquals(1, db().counter(), "what was done through sqlSession() committed with the step");

        // After the step, on the caller's thread, there is again no transaction.
        assertThrows(NoTransactionException.class, () -> ds.sqlSession());
        // ...nor in the next step's function, which runs on this same thread: the binding is undone
        // when a function ends, so it cannot leak to the next one.
        BlockingDatasource other = BlockingDatasource.wrap(async);
        assertThrows(NoTransactionException.class, () -> other.runTxStep(DatasourceOptions.named("leak?"),
                s -> ds.sqlSession()));
    }

    // ---------------------------------------------------------------- errors

    @Test
    void aFunctionsExceptionPropagatesAsTheSameTypeAndRollsBack() {
        InsufficientFundsException e = assertThrows(InsufficientFundsException.class,
                () -> ds.runTxStep(DatasourceOptions.named("fails"), s -> {
                    s.execute("UPDATE " + db().q("counter") + " SET n = n + 1 WHERE id = 1");
                    throw new InsufficientFundsException("balance 3, needed 5");
                }));
        assertSame(InsufficientFundsException.class, e.getClass());
        assertEquals("balance 3, needed 5", e.getMessage());
        assertEquals(0, db().counter(), "the step's write was rolled back");

        // In a workflow: raised as itself on the first run, recorded, replayed as RecordedStepException.
        String id = wf();
        AtomicInteger calls = new AtomicInteger();
        Supplier<Integer> failing = () -> ds.runTxStep(DatasourceOptions.named("fails-in-wf"), s -> {
            calls.incrementAndGet();
            throw new InsufficientFundsException("balance 3, needed 5");
        });
        assertThrows(InsufficientFundsException.class, () -> inScope(id, failing));
        RecordedStepException replayed = assertThrows(RecordedStepException.class, () -> inScope(id, failing));
        assertEquals(new StepKey(id, 0), replayed.key());
        assertEquals(InsufficientFundsException.class.getName(), replayed.errorType());
        assertEquals("balance 3, needed 5", replayed.errorMessage());
        assertInstanceOf(InsufficientFundsException.class, replayed.getCause());
        assertEquals(1, calls.get(), "a recorded error is not run again");
    }

    /**
     * The facade throws the step's error as it was: an {@code Error} thrown by the function is not
     * left wrapped in Reactor's package-private {@code Exceptions$ReactiveException} (which
     * {@code Mono.block()} uses for every non-RuntimeException) — callers could not name it.
     */
    @Test
    void anErrorThrownByTheFunctionPropagatesUnwrapped() {
        Throwable thrown = assertThrows(Throwable.class, () -> ds.runTxStep(DatasourceOptions.named("error"), s -> {
            throw new LedgerCorruptedError("ledger corrupted");
        }));
        assertSame(LedgerCorruptedError.class, thrown.getClass(), "thrown: " + thrown);
        assertEquals(0, db().count("SELECT COUNT(*) FROM " + db().outputs()));
    }

    /**
     * {@link RetryPolicy}: "Errors of the step's function are never retried: they are its outcome."
     * A function's own {@code UncheckedIOException} (or {@code TimeoutException}) is not mistaken for a
     * lost connection: it runs once, is raised as it was and, in a workflow, is recorded — so a replay
     * does not run the function again. Only the database can call a function's error transient.
     */
    @Test
    void aFunctionsIoExceptionIsItsOutcomeNotARetry() {
        String id = wf();
        AtomicInteger calls = new AtomicInteger();
        Supplier<Integer> readsAFile = () -> ds.runTxStep(DatasourceOptions.named("reads-a-file"), s -> {
            calls.incrementAndGet();
            throw new UncheckedIOException(new IOException("config.json: no such file"));
        });
        Throwable thrown = assertThrows(Throwable.class, () -> inScope(id, readsAFile));
        assertSame(UncheckedIOException.class, thrown.getClass(), "thrown: " + thrown);
        assertEquals(1, calls.get(), "the function ran once");
        assertEquals(List.of("0:reads-a-file"), recordedSteps(id), "its error is the step's recorded outcome");
    }

    // ---------------------------------------------------------------- isolation

    @Test
    void aFunctionReturningAnAsynchronousValueIsRefusedRolledBackAndNotRecorded() {
        // Each does its work, then returns work for later: a Mono and a Flux (whose SQL would run
        // after the commit, on a connection back in the pool) and a future.
        List<Function<BlockingTxSession, Object>> asynchronous = List.of(
                s -> {
                    bump(s, "mono");
                    return Mono.just(1);
                },
                s -> {
                    bump(s, "flux");
                    return Flux.just(1, 2);
                },
                s -> {
                    bump(s, "future");
                    return CompletableFuture.completedFuture(1);
                });
        String id = wf();
        for (Function<BlockingTxSession, Object> fn : asynchronous) {
            InvalidInputException outside = assertThrows(InvalidInputException.class,
                    () -> ds.runTxStep(DatasourceOptions.named("async-value"), fn));
            assertTrue(outside.getMessage().contains("AsyncDatasource.runTxStepAsync"), outside.getMessage());
            assertThrows(InvalidInputException.class,
                    () -> inScope(id, () -> ds.runTxStep(DatasourceOptions.named("async-value"), fn)));
            assertThrows(InvalidInputException.class, () -> inScope(id,
                    () -> ds.<String, Object>transaction(DatasourceOptions.named("async-value"), (s, a) -> fn.apply(s))
                            .apply("argument")));
        }
        assertEquals(0, db().counter(), "every step rolled back");
        assertEquals(0, db().count("SELECT COUNT(*) FROM " + db().q("effects")));
        assertEquals(0, db().count("SELECT COUNT(*) FROM " + db().outputs()), "nothing recorded");
    }

    @Test
    void theIsolationLevelAskedForIsApplied() {
        Map<IsolationLevel, String> expected = Map.of(IsolationLevel.SERIALIZABLE, "serializable",
                IsolationLevel.REPEATABLE_READ, "repeatable read", IsolationLevel.READ_COMMITTED, "read committed");
        for (IsolationLevel level : IsolationLevel.values()) {
            assertEquals(expected.get(level), ds.runTxStep(new DatasourceOptions("iso", level), this::isolation),
                    "runTxStep at " + level);
            Function<Integer, String> wrapped = ds.transaction(new DatasourceOptions("iso-tx", level),
                    (s, ignored) -> isolation(s));
            assertEquals(expected.get(level), wrapped.apply(0), "transaction(...) at " + level);
        }
        // Levels do not leak between steps on a pooled connection: the default is SERIALIZABLE again.
        assertEquals("serializable", ds.runTxStep(null, this::isolation));
        assertEquals("serializable", ds.runTxStep(DatasourceOptions.named("default-level"), this::isolation));
    }

    // ---------------------------------------------------------------- workflows

    @Test
    void aBlockingWorkflowRunsEachStepOnceAndReplaysItsOutputs() {
        String id = wf();
        AtomicInteger calls = new AtomicInteger();
        List<WorkflowScope> scopesSeenByFunctions = new CopyOnWriteArrayList<>();
        List<Optional<StepKey>> keysSeen = new CopyOnWriteArrayList<>();
        Supplier<List<Integer>> workflow = () -> IntStream.range(0, 3)
                .mapToObj(i -> ds.runTxStep(DatasourceOptions.named("step" + i), s -> {
                    calls.incrementAndGet();
                    keysSeen.add(s.stepKey());
                    // The caller's thread-bound scope is restored on the worker thread that runs the function.
                    scopesSeenByFunctions.add(ThreadBoundWorkflows.current());
                    return bump(s, "step" + i);
                }))
                .toList();

        List<Integer> first = inScope(id, workflow);
        List<Integer> second = inScope(id, workflow);

        assertEquals(List.of(1, 2, 3), first);
        assertEquals(first, second, "the replay returns the recorded outputs");
        assertEquals(3, calls.get(), "each function ran once, on the first run only");
        assertEquals(3, db().counter(), "each step's effect happened once");
        assertEquals(3, db().count("SELECT COUNT(*) FROM " + db().q("effects")));
        assertEquals(List.of("0:step0", "1:step1", "2:step2"), recordedSteps(id));
        assertEquals(List.of(Optional.of(new StepKey(id, 0)), Optional.of(new StepKey(id, 1)),
                Optional.of(new StepKey(id, 2))), keysSeen);
        assertEquals(3, scopesSeenByFunctions.size());
        assertTrue(scopesSeenByFunctions.stream().allMatch(scope -> scope != null && scope.workflowId().equals(id)),
                "every function saw the workflow's scope: " + scopesSeenByFunctions);

        // After the workflow, a step on the same worker threads is outside any workflow again.
        Optional<StepKey> after = ds.runTxStep(DatasourceOptions.named("after"), s -> {
            assertNull(ThreadBoundWorkflows.current(), "no workflow scope leaked onto the worker thread");
            return s.stepKey();
        });
        assertEquals(Optional.empty(), after);
        assertEquals(3, db().count("SELECT COUNT(*) FROM " + db().outputs()), "the step after the workflow was not recorded");
    }

    @Test
    void aPartlyRecordedBlockingWorkflowRunsOnlyTheRest() {
        String id = wf();
        Function<Integer, Supplier<List<Integer>>> firstSteps = n -> () -> IntStream.range(0, n)
                .mapToObj(i -> ds.runTxStep(DatasourceOptions.named("s" + i), s -> bump(s, "s" + i)))
                .toList();
        assertEquals(List.of(1), inScope(id, firstSteps.apply(1)));
        assertEquals(List.of(1, 2, 3), inScope(id, firstSteps.apply(3)));
        assertEquals(3, db().counter());
        assertEquals(List.of("0:s0", "1:s1", "2:s2"), recordedSteps(id));
    }

    @Test
    void eightWorkflowsOnEightThreadsEachGetTheirOwnStepIds() throws Exception {
        int workflows = 8;
        int steps = 4;
        List<String> ids = IntStream.range(0, workflows).mapToObj(i -> wf()).toList();
        AtomicInteger calls = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(workflows);
        try {
            List<List<Integer>> first = runConcurrently(pool, ids, steps, calls);
            List<List<Integer>> second = runConcurrently(pool, ids, steps, calls);
            List<Integer> expectedIds = IntStream.range(0, steps).boxed().toList();
            for (int w = 0; w < workflows; w++) {
                // Each function saw its own key: ids 0..n-1 of its own workflow, in order.
                assertEquals(expectedIds, first.get(w), "step ids seen by workflow " + w);
                assertEquals(first.get(w), second.get(w), "replayed outputs of workflow " + w);
                assertEquals(List.of("0:s0", "1:s1", "2:s2", "3:s3"), recordedSteps(ids.get(w)),
                        "recorded steps of workflow " + w);
            }
            assertEquals(workflows * steps, calls.get(), "every step ran once; the second round only replayed");
            assertEquals(workflows * steps, db().count("SELECT COUNT(*) FROM " + db().q("effects")));
            assertEquals(workflows * steps, db().count("SELECT COUNT(*) FROM " + db().outputs()));
        } finally {
            pool.shutdownNow();
            assertTrue(pool.awaitTermination(10, TimeUnit.SECONDS));
        }
        waitForIdlePool();
    }

    /** Runs every workflow on its own pool thread, all starting together; returns each one's outputs. */
    private List<List<Integer>> runConcurrently(ExecutorService pool, List<String> ids, int steps, AtomicInteger calls)
            throws Exception {
        CyclicBarrier start = new CyclicBarrier(ids.size());
        List<Future<List<Integer>>> futures = new ArrayList<>();
        for (String id : ids) {
            futures.add(pool.submit(() -> {
                start.await(10, TimeUnit.SECONDS); // so the workflows really overlap
                return inScope(id, () -> IntStream.range(0, steps)
                        .mapToObj(i -> ds.runTxStep(DatasourceOptions.named("s" + i), s -> {
                            calls.incrementAndGet();
                            StepKey key = s.stepKey().orElseThrow();
                            assertEquals(id, key.workflowId(), "the step belongs to this thread's workflow");
                            s.execute("INSERT INTO " + db().q("effects") + " VALUES (" + db().param(1) + ", " + db().param(2) + ")", UUID.randomUUID().toString(),
                                    id + "#" + key.stepId());
                            return key.stepId();
                        }))
                        .toList());
            }));
        }
        List<List<Integer>> results = new ArrayList<>();
        for (Future<List<Integer>> future : futures) {
            results.add(future.get(90, TimeUnit.SECONDS));
        }
        return results;
    }

    // ---------------------------------------------------------------- helpers

    /** Bumps the counter and writes one effect row; returns the counter's new value. */
    private Integer bump(BlockingTxSession s, String note) {
        s.execute("UPDATE " + db().q("counter") + " SET n = n + 1 WHERE id = 1");
        s.execute("INSERT INTO " + db().q("effects") + " VALUES (" + db().param(1) + ", " + db().param(2) + ")", UUID.randomUUID().toString(), note);
        return s.query("SELECT n FROM " + db().q("counter") + " WHERE id = 1", (row, meta) -> row.get(0, Integer.class)).get(0);
    }

    /** The running transaction's level as the database names it, MariaDB's "repeatable-read" spelt with a space. */
    private String isolation(BlockingTxSession s) {
        return s.query(db().isolationQuery(), (row, meta) -> row.get(0, String.class))
                .get(0).toLowerCase(Locale.ROOT).replace('-', ' ');
    }

    private void waitForIdlePool() throws InterruptedException {
        ConnectionPool pool = (ConnectionPool) async.connectionFactory();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (pool.getMetrics().orElseThrow().acquiredSize() != 0) {
            assertFalse(System.nanoTime() > deadline, "every connection was released");
            Thread.sleep(20);
        }
    }






    /** The recorded steps of a workflow as "stepId:stepName", in step order. */
    private List<String> recordedSteps(String workflowId) {
        String sql = "SELECT step_id, step_name FROM " + db().outputs() + " WHERE workflow_id = '" + workflowId
                + "' ORDER BY step_id";
        try (Connection c = TestDatabases.jdbc(url); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            List<String> steps = new ArrayList<>();
            while (rs.next()) {
                steps.add(rs.getInt(1) + ":" + rs.getString(2));
            }
            return Collections.unmodifiableList(steps);
        } catch (SQLException e) {
            throw new IllegalStateException("failed: " + sql, e);
        }
    }

    private static String wf() {
        return "blk-" + UUID.randomUUID();
    }

    /** This test's schema, for JDBC checks. */
    protected TestSchema db() {
        return new TestSchema(url, schema);
    }
}
