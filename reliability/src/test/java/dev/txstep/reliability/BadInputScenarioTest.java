package dev.txstep.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import dev.txstep.AsyncDatasource;
import dev.txstep.BlockingCallException;
import dev.txstep.BlockingDatasource;
import dev.txstep.BlockingTxSession;
import dev.txstep.DatasourceClosedException;
import dev.txstep.DatasourceConfig;
import dev.txstep.DatasourceException;
import dev.txstep.DatasourceOptions;
import dev.txstep.InvalidConfigurationException;
import dev.txstep.InvalidInputException;
import dev.txstep.IsolationLevel;
import dev.txstep.NoTransactionException;
import dev.txstep.NonDeterminismException;
import dev.txstep.OutputSerializationException;
import dev.txstep.RetryPolicy;
import dev.txstep.StepKey;
import dev.txstep.TxSession;
import dev.txstep.reactor.Workflow;
import dev.txstep.serialization.Serializer;
import dev.txstep.testing.TestDatabases;
import dev.txstep.testing.TestSchema;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.function.Executable;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * R6, bad input: a table of named bad inputs sent through the public API, on PostgreSQL. For
 * every one it proves, by counting rows, that txstep
 * <ol>
 *   <li>refuses it with exactly the {@link DatasourceException} subclass the contract names (not
 *       the base class, not a driver's, Jackson's or Reactor's exception);</li>
 *   <li>says what is wrong: the message contains a fragment naming the problem;</li>
 *   <li>leaves nothing behind: the row count of every table in the test's schema (txstep's
 *       {@code datasource_outputs} and {@code txstep_schema_history}, and the test's own tables) and
 *       the number of schemas this run could have created are the same after the input as before.</li>
 * </ol>
 * Inputs that reach a step's function make it insert an effect row first (into {@code effects},
 * which has no key, so nothing but a rollback can keep a row out), and the check asserts that the
 * insert really ran: "nothing half-written" is then a real claim, not a vacuous one. A recorded
 * row that a case corrupts is inserted before the "before" snapshot; the step replaying it must not
 * run its function at all.
 *
 * <p>The schemas counted are those whose name contains this run's random token: every schema name
 * a case passes (injections included) contains it. The server is shared with other test runs, so
 * the total number of schemas in {@code information_schema.schemata} is not stable enough to compare.
 *
 * <p>Short and long variants are the same: the table runs in seconds.
 */
class BadInputScenarioTest {

    private static final Duration WAIT = Duration.ofSeconds(30);
    /** In every schema name the cases use, so the schemas this run could create can be counted. */
    private static final String TOKEN = "r6" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
    private static final int MINIMUM_CASES = 25;

    private static String url;
    private static TestSchema db;
    private static AsyncDatasource ds;
    private static BlockingDatasource bds;
    /** Closed before the cases run: the input is "a step on a closed datasource". */
    private static AsyncDatasource closed;

    /** Effect rows the cases' step functions inserted (each must have been rolled back). */
    private static final AtomicInteger effectsWritten = new AtomicInteger();
    /** Calls of step functions that must not run (steps whose recorded row is replayed). */
    private static final AtomicInteger forbiddenRuns = new AtomicInteger();
    private static final AtomicInteger passed = new AtomicInteger();
    private static final AtomicInteger tableCountsCompared = new AtomicInteger();

    /**
     * One bad input.
     *
     * @param name          what the input is
     * @param expected      the exact exception class it must raise
     * @param fragment      text the message must contain: the problem, named
     * @param recordedFirst a recorded row to insert before the "before" snapshot, or null
     * @param writesEffect  whether the input reaches a step function that inserts an effect row first
     * @param input         sends the input through the public API
     */
    record Case(String name, Class<? extends DatasourceException> expected, String fragment,
            Consumer<String> recordedFirst, boolean writesEffect, Function<String, Executable> input) {

        @Override
        public String toString() {
            return name;
        }
    }

    /** What is compared before and after each input. */
    record Snapshot(SortedMap<String, Long> rowsPerTable, long schemasOfThisRun) {
    }

    @BeforeAll
    static void setUp() {
        url = TestDatabases.postgresR2dbcUrl();
        db = new TestSchema(url, TestDatabases.uniqueSchema("bad_" + TOKEN));
        ds = AsyncDatasource.create(config().schema(db.name()).maxPoolSize(4)
                .retryPolicy(RetryPolicy.defaults().withMaxAttempts(3)).build()).block(WAIT);
        bds = BlockingDatasource.wrap(ds);
        closed = AsyncDatasource.create(config().schema(db.name()).migrate(false).maxPoolSize(1).build()).block(WAIT);
        closed.close().block(WAIT);
        db.exec("CREATE TABLE " + db.q("effects") + " (note text NOT NULL)"); // no key: only a rollback removes a row
        db.exec("CREATE TABLE " + db.q("sentinel") + " (id int)"); // what the injections aim at
        db.exec("INSERT INTO " + db.q("sentinel") + " VALUES (1)");
    }

    @AfterAll
    static void tearDown() {
        if (ds != null) {
            ds.close().block(WAIT);
        }
        if (db != null) {
            db.exec("DROP SCHEMA IF EXISTS \"" + db.name() + "\" CASCADE");
        }
    }

    @TestFactory
    Stream<DynamicTest> everyBadInputIsRefusedByNameAndLeavesNoRow() {
        List<Case> cases = cases();
        Stream<DynamicTest> checks = cases.stream().map(c -> dynamicTest(c.name(), () -> check(c)));
        // Runs last (dynamic tests run in order): the figures are published only if every case passed.
        DynamicTest report = dynamicTest("all cases passed: report", () -> {
            assertTrue(cases.size() >= MINIMUM_CASES, "at least " + MINIMUM_CASES + " bad inputs, had " + cases.size());
            assertEquals(cases.size(), passed.get(), "every bad input was refused by name and left no row");
            Report.of("R6 bad input")
                    .put("cases", cases.size())
                    .put("refusedWithTypedException", passed.get())
                    .put("tablesPerSnapshot", snapshot().rowsPerTable().size())
                    .put("tableRowCountsCompared", tableCountsCompared.get())
                    .put("schemaCountsCompared", passed.get())
                    .put("effectRowsWrittenThenRolledBack", effectsWritten.get())
                    .put("rowsLeftBehind", 0)
                    .publish();
        });
        return Stream.concat(checks, Stream.of(report));
    }

    private void check(Case c) throws Throwable {
        String workflowId = "r6-" + UUID.randomUUID();
        if (c.recordedFirst() != null) {
            c.recordedFirst().accept(workflowId);
        }
        Snapshot before = snapshot();
        int effectsBefore = effectsWritten.get();
        int forbiddenBefore = forbiddenRuns.get();

        Throwable thrown = thrownBy(c.input().apply(workflowId));
        Snapshot after = snapshot();

        if (thrown == null) {
            throw new AssertionError("'" + c.name() + "' was accepted: expected " + c.expected().getSimpleName()
                    + " naming '" + c.fragment() + "'. Rows before " + before + ", after " + after);
        }
        if (thrown.getClass() != c.expected()) {
            throw new AssertionError("'" + c.name() + "': expected exactly " + c.expected().getName()
                    + " but got " + thrown, thrown);
        }
        assertTrue(thrown.getMessage() != null && thrown.getMessage().contains(c.fragment()),
                () -> "the message names the problem ('" + c.fragment() + "'): " + thrown.getMessage());
        assertEquals(before, after, "no row added or removed in any table, no schema created");
        assertEquals(forbiddenBefore, forbiddenRuns.get(), "a recorded step's function did not run");
        if (c.writesEffect()) {
            assertTrue(effectsWritten.get() > effectsBefore,
                    "the step function inserted its effect row before failing (so the rollback was tested)");
        }
        tableCountsCompared.addAndGet(before.rowsPerTable().size());
        passed.incrementAndGet();
    }

    private static Throwable thrownBy(Executable input) {
        try {
            input.execute();
            return null;
        } catch (Throwable t) {
            return t;
        }
    }

    // ------------------------------------------------------------------------------------ the table

    private static List<Case> cases() {
        List<Case> cases = new ArrayList<>();
        String s = db.name();
        Class<InvalidConfigurationException> config = InvalidConfigurationException.class;
        Class<InvalidInputException> input = InvalidInputException.class;
        Class<OutputSerializationException> output = OutputSerializationException.class;

        // Configuration: refused before anything is created.
        cases.add(bad("schema: injection dropping the sentinel table", config, "schema must be a plain SQL identifier",
                wf -> () -> create(s + "\".sentinel; DROP TABLE \"" + s + "\".sentinel; --")));
        cases.add(bad("schema: injection creating a schema", config, "plain SQL identifier",
                wf -> () -> create("x\"; CREATE SCHEMA \"" + TOKEN + "_injected\"; --")));
        cases.add(bad("schema: 64 characters", config, "at most 63 characters",
                wf -> () -> create((TOKEN + "_".repeat(64)).substring(0, 64))));
        cases.add(bad("schema: starts with a digit", config, "was '1" + TOKEN + "'", wf -> () -> create("1" + TOKEN)));
        cases.add(bad("schema: non-ASCII letter", config, "plain SQL identifier", wf -> () -> create("sch\u00e9ma_" + TOKEN)));
        cases.add(bad("schema: whitespace only", config, "plain SQL identifier", wf -> () -> create(" \t")));
        cases.add(bad("schema: null", config, "was 'null'", wf -> () -> create(null)));
        // Matches the identifier pattern, but PostgreSQL reserves the prefix for system schemas.
        cases.add(bad("schema: reserved pg_ prefix", config, "reserved", wf -> () -> create("pg_" + TOKEN)));
        cases.add(bad("URL: unknown driver", config, "no R2DBC driver on the class path accepts",
                wf -> () -> AsyncDatasource.create("r2dbc:nosuchdb://127.0.0.1/" + TOKEN).block(WAIT)));
        cases.add(bad("URL: malformed", config, "malformed R2DBC URL", wf -> () -> AsyncDatasource.create("not a url").block(WAIT)));
        cases.add(bad("URL: blank", config, "R2DBC URL must not be blank", wf -> () -> AsyncDatasource.create("  ").block(WAIT)));
        cases.add(bad("pool: negative initial size", config, "initialPoolSize must be zero or more, was -1",
                wf -> () -> config().initialPoolSize(-1)));
        cases.add(bad("pool: negative maximum size", config, "maxPoolSize must be at least 1, was -5",
                wf -> () -> config().maxPoolSize(-5)));
        cases.add(bad("pool: initial size above the maximum", config, "initialPoolSize (5) must not exceed maxPoolSize (2)",
                wf -> () -> AsyncDatasource.create(config().schema(TOKEN + "_pool").initialPoolSize(5).maxPoolSize(2).build())
                        .block(WAIT)));
        cases.add(bad("timeout: zero acquire timeout", config, "acquireTimeout must be positive or null, was PT0S",
                wf -> () -> config().acquireTimeout(Duration.ZERO)));
        cases.add(bad("retry: zero attempts", config, "retry maxAttempts must be at least 1, was 0",
                wf -> () -> RetryPolicy.defaults().withMaxAttempts(0)));
        cases.add(bad("retry: negative attempts (builder)", config, "retry maxAttempts must be at least 1, was -3",
                wf -> () -> RetryPolicy.builder().maxAttempts(-3)));
        cases.add(bad("retry: zero initial backoff", config, "retry initialBackoff must be positive, was PT0S",
                wf -> () -> RetryPolicy.defaults().withBackoff(Duration.ZERO, Duration.ofSeconds(1))));
        cases.add(bad("retry: negative maximum backoff (builder)", config, "retry maxBackoff must be positive",
                wf -> () -> RetryPolicy.builder().maxBackoff(Duration.ofMillis(-1))));
        cases.add(bad("retry: NaN jitter", config, "retry jitter must be between 0 and 1, was NaN",
                wf -> () -> RetryPolicy.defaults().withJitter(Double.NaN)));
        cases.add(bad("serializer: blank name", config, "serializer name must not be blank",
                wf -> () -> config().serializer(serializer(" ", v -> "1"))));
        // A NUL cannot travel in PostgreSQL's simple-query message that carries the output row.
        cases.add(bad("serializer: name with a NUL character", config, "NUL character",
                wf -> () -> withOtherDatasource(serializer("a\0b", v -> "1"), other -> stepIn(wf, other, effectThen(1)))));

        // Workflow ids, step names, workflow bodies: refused before any step runs.
        cases.add(bad("workflow id: null", input, "workflow id must not be null", wf -> () -> stepIn(null, ds, effectThen(1))));
        cases.add(bad("workflow id: empty", input, "workflow id must not be blank", wf -> () -> stepIn("", ds, effectThen(1))));
        cases.add(bad("workflow id: whitespace", input, "workflow id must not be blank",
                wf -> () -> stepIn(" \t\n", ds, effectThen(1))));
        int tooLong = StepKey.MAX_WORKFLOW_ID_LENGTH + 1;
        cases.add(bad("workflow id: " + tooLong + " characters", input,
                tooLong + " characters long; the limit is " + StepKey.MAX_WORKFLOW_ID_LENGTH,
                wf -> () -> stepIn("w".repeat(tooLong), ds, effectThen(1))));
        cases.add(bad("workflow id: NUL character", input, "workflow id must not contain a NUL character",
                wf -> () -> stepIn(wf + "\0", ds, effectThen(1))));
        // Not well-formed UTF-16: the driver would send it as '?', so two such ids would share a record.
        cases.add(bad("workflow id: unpaired surrogate", input, "surrogate",
                wf -> () -> stepIn(wf + "\uD800", ds, effectThen(1))));
        cases.add(bad("workflow body: null", input, "workflow body must not be null",
                wf -> () -> Workflow.run(wf, (Mono<Object>) null).block(WAIT)));
        cases.add(bad("step name: blank", input, "step name must be null (for the default) or a non-blank",
                wf -> () -> DatasourceOptions.named("   ")));
        // Recorded as "n?", so every replay of the step would be a NonDeterminismException.
        cases.add(bad("step name: unpaired surrogate", input, "surrogate",
                wf -> () -> Workflow.run(wf, ds.runTxStepAsync(DatasourceOptions.named("n\uDC00"), effectThen(1)))
                        .block(WAIT)));
        cases.add(bad("isolation level: unknown", input, "unknown isolation level 'chaos'",
                wf -> () -> IsolationLevel.parse("chaos")));

        // Step functions and what they return.
        cases.add(bad("function: null (reactive)", input, "step function must not be null",
                wf -> () -> ds.runTxStepAsync(DatasourceOptions.named("f"), (Function<TxSession, Publisher<Object>>) null)));
        cases.add(bad("function: null (blocking)", input, "step function must not be null",
                wf -> () -> bds.runTxStep(DatasourceOptions.named("f"), (Function<BlockingTxSession, Object>) null)));
        cases.add(bad("function: null transaction(...)", input, "transaction function must not be null",
                wf -> () -> ds.transaction(DatasourceOptions.named("f"), null)));
        cases.add(bad("function: returns a null publisher", input, "returned a null publisher",
                wf -> () -> stepIn(wf, ds, session -> null)));
        cases.add(effect("function: publisher of two values, in a workflow", input, "emitted more than one value",
                wf -> () -> stepIn(wf, ds, session -> insertEffect(session).thenMany(Flux.just(1, 2)))));
        cases.add(effect("function: publisher of two values, outside a workflow", input, "emitted more than one value",
                wf -> () -> ds.runTxStepAsync(DatasourceOptions.named("two"),
                        session -> insertEffect(session).thenMany(Flux.just(1, 2))).block(WAIT)));
        cases.add(effect("output: java.lang.Object", output, "java.lang.Object", wf -> () -> stepIn(wf, ds, effectThen(new Object()))));
        cases.add(effect("output: a Thread", output, "java.lang.Thread",
                wf -> () -> stepIn(wf, ds, effectThen(new Thread(() -> { })))));
        cases.add(effect("output: an Optional as the whole output", output, "cannot be a step's whole output",
                wf -> () -> stepIn(wf, ds, effectThen(java.util.Optional.of(1)))));
        cases.add(effect("output: a map with non-String keys", output, "must have String keys",
                wf -> () -> stepIn(wf, ds, effectThen(Map.of(1, "one")))));
        cases.add(effect("serializer: throws", output, "serializer exploded on purpose",
                wf -> () -> withOtherDatasource(serializer("exploding", v -> {
                    throw new IllegalStateException("serializer exploded on purpose");
                }), other -> stepIn(wf, other, effectThen(1)))));
        // A null text is recorded as SQL NULL, which replays as "no value": not what the step returned.
        cases.add(effect("serializer: returns null for a value", output, "returned null",
                wf -> () -> withOtherDatasource(serializer("nulling", v -> null), other -> stepIn(wf, other, effectThen(1)))));
        cases.add(effect("serializer: returns text with a NUL character", output, "NUL character",
                wf -> () -> withOtherDatasource(serializer("nul-text", v -> "1\0"), other -> stepIn(wf, other, effectThen(1)))));
        // Not well-formed UTF-16: would be stored with '?' in its place, and replayed as another value.
        cases.add(effect("serializer: returns text with an unpaired surrogate", output, "surrogate",
                wf -> () -> withOtherDatasource(serializer("surrogate-text", v -> "1\uD800"),
                        other -> stepIn(wf, other, effectThen(1)))));

        // Misuse of sessions, threads and lifecycles.
        cases.add(effect("SQL parameter: null", input, "parameter $1 of",
                wf -> () -> stepIn(wf, ds, session -> insertEffect(session)
                        .then(session.execute("INSERT INTO " + db.q("effects") + " VALUES ($1)", (Object) null)))));
        cases.add(effect("SQL: blank", input, "SQL must not be null or blank",
                wf -> () -> stepIn(wf, ds, session -> insertEffect(session).then(session.execute(" ")))));
        cases.add(bad("sqlSession(): outside a step (reactive)", NoTransactionException.class, "outside a transaction step",
                wf -> () -> ds.sqlSession().block(WAIT)));
        cases.add(bad("sqlSession(): outside a step (blocking)", NoTransactionException.class, "outside a transaction step",
                wf -> () -> bds.sqlSession()));
        cases.add(effect("sqlSession(): another datasource's, inside a step", NoTransactionException.class,
                "of this datasource", wf -> () -> withOtherDatasource(null, other -> stepIn(wf, other,
                        session -> insertEffect(session).then(ds.sqlSession())
                                .flatMap(foreign -> foreign.execute(effectSql(), "foreign"))))));
        cases.add(bad("blocking facade: runTxStep on an event-loop thread", BlockingCallException.class,
                "called on the non-blocking thread", wf -> () -> Mono.fromCallable(
                        () -> bds.runTxStep(DatasourceOptions.named("blocking"), session -> session.execute(effectSql(), "x")))
                        .subscribeOn(Schedulers.parallel()).block(WAIT)));
        cases.add(bad("blocking facade: create on an event-loop thread", BlockingCallException.class,
                "BlockingDatasource.create blocks", wf -> () -> Mono.fromCallable(
                        () -> BlockingDatasource.create(config().schema(TOKEN + "_nonblocking").build()))
                        .subscribeOn(Schedulers.parallel()).block(WAIT)));
        cases.add(bad("datasource: closed", DatasourceClosedException.class, "the datasource is closed",
                wf -> () -> stepIn(wf, closed, effectThen(1))));

        // Recorded rows that cannot be replayed: refused, and the step does not run again.
        cases.add(recorded("recorded row: corrupted output text", output, "cannot be read back",
                wf -> insertRow(wf, "step", "{\"not json", null, "jackson")));
        cases.add(recorded("recorded row: names a disallowed type", output, "java.net.URL",
                wf -> insertRow(wf, "step", "[\"java.net.URL\",\"http://attacker.invalid\"]", null, "jackson")));
        cases.add(recorded("recorded row: names a gadget class", output, "com.sun.rowset.JdbcRowSetImpl",
                wf -> insertRow(wf, "step", "{\"@type\":\"com.sun.rowset.JdbcRowSetImpl\",\"dataSourceName\":\"ldap://x\",\"autoCommit\":true}",
                        null, "jackson")));
        cases.add(recorded("recorded row: written by another serializer", output, "recorded by serializer 'kryo'",
                wf -> insertRow(wf, "step", "\"hello\"", null, "kryo")));
        cases.add(recorded("recorded row: unreadable error", output, "is not readable",
                wf -> insertRow(wf, "step", null, "{broken", "jackson")));
        cases.add(recorded("recorded row: another step name", NonDeterminismException.class, "was recorded as 'renamed'",
                wf -> insertRow(wf, "renamed", "1", null, "jackson")));
        return cases;
    }

    // ------------------------------------------- ill-formed text: refused, or kept exactly, never changed

    /**
     * What the unpaired-surrogate cases above guard against, shown end to end: two workflow ids that
     * differ only in an unpaired surrogate would be stored alike ('?' in its place) and share one
     * record. txstep refuses such ids before any step runs, so neither workflow records anything
     * and neither step's effect is written.
     */
    @Test
    void workflowIdsThatDifferOnlyInAnUnpairedSurrogateAreRefusedSoNoneSharesARecord() {
        String base = "r6-surrogate-" + UUID.randomUUID();
        long effectsBefore = db.count("SELECT COUNT(*) FROM " + db.q("effects"));
        for (String id : List.of(base + "\uD800", base + "\uDBFF")) {
            InvalidInputException refused = assertThrows(InvalidInputException.class,
                    () -> stepIn(id, ds, effectThen("output of " + id)));
            assertTrue(refused.getMessage().contains("surrogate"), refused.getMessage());
        }
        assertEquals(0, db.count("SELECT COUNT(*) FROM " + db.outputs() + " WHERE workflow_id LIKE '" + base + "%'"),
                "nothing recorded under either id, nor under the id both would have been stored as");
        assertEquals(effectsBefore, db.count("SELECT COUNT(*) FROM " + db.q("effects")), "no step ran");
    }

    /**
     * A step whose output is a string with an unpaired surrogate: stored, it would come back with
     * '?' in its place, so a replay would return another string. The default serializer's text is
     * refused ({@link OutputSerializationException}): the step rolls back, its effect with it, and
     * nothing is recorded.
     */
    @Test
    void anOutputWithAnUnpairedSurrogateIsRefusedRolledBackAndNotRecorded() {
        String workflowId = "r6-output-" + UUID.randomUUID();
        long effectsBefore = db.count("SELECT COUNT(*) FROM " + db.q("effects"));
        OutputSerializationException refused = assertThrows(OutputSerializationException.class,
                () -> stepIn(workflowId, ds, effectThen("before\uD800after")));
        assertTrue(refused.getMessage().contains("surrogate"), refused.getMessage());
        assertEquals(0, db.count("SELECT COUNT(*) FROM " + db.outputs() + " WHERE workflow_id = '" + workflowId + "'"),
                "a refused output is not recorded");
        assertEquals(effectsBefore, db.count("SELECT COUNT(*) FROM " + db.q("effects")), "the effect rolled back");
    }

    // ------------------------------------------------------------------------------------ helpers

    private static Case bad(String name, Class<? extends DatasourceException> expected, String fragment,
            Function<String, Executable> input) {
        return new Case(name, expected, fragment, null, false, input);
    }

    /** A case whose step function inserts an effect row before it fails. */
    private static Case effect(String name, Class<? extends DatasourceException> expected, String fragment,
            Function<String, Executable> input) {
        return new Case(name, expected, fragment, null, true, input);
    }

    /** A case replaying a recorded row written first; the step's function must not run. */
    private static Case recorded(String name, Class<? extends DatasourceException> expected, String fragment,
            Consumer<String> row) {
        return new Case(name, expected, fragment, row, false, wf -> () -> Workflow.run(wf,
                ds.runTxStepAsync(DatasourceOptions.named("step"), Long.class, session -> {
                    forbiddenRuns.incrementAndGet();
                    return insertEffect(session).thenReturn(1L);
                })).block(WAIT));
    }

    private static DatasourceConfig.Builder config() {
        return DatasourceConfig.builder().url(url);
    }

    private static AsyncDatasource create(String schema) {
        return AsyncDatasource.create(config().schema(schema).build()).block(WAIT);
    }

    /** Runs one step named "step" as workflow {@code workflowId}. */
    private static <R> R stepIn(String workflowId, AsyncDatasource on, Function<TxSession, ? extends Publisher<R>> fn) {
        return Workflow.run(workflowId, on.runTxStepAsync(DatasourceOptions.named("step"), fn)).block(WAIT);
    }

    /** A step function that inserts an effect row, then returns {@code value}. */
    private static <R> Function<TxSession, Publisher<R>> effectThen(R value) {
        return session -> insertEffect(session).thenReturn(value);
    }

    private static Mono<Long> insertEffect(TxSession session) {
        return session.execute(effectSql(), "effect").doOnNext(rows -> effectsWritten.addAndGet(rows.intValue()));
    }

    private static String effectSql() {
        return "INSERT INTO " + db.q("effects") + " (note) VALUES ($1)";
    }

    /**
     * Runs {@code use} with a second datasource on the test's schema (no migration), using
     * {@code serializer} (null for the default), and closes it.
     */
    private static void withOtherDatasource(Serializer serializer, Consumer<AsyncDatasource> use) {
        DatasourceConfig.Builder builder = config().schema(db.name()).migrate(false).maxPoolSize(2)
                .retryPolicy(RetryPolicy.defaults().withMaxAttempts(2));
        if (serializer != null) {
            builder.serializer(serializer);
        }
        AsyncDatasource other = AsyncDatasource.create(builder.build()).block(WAIT);
        try {
            use.accept(other);
        } finally {
            other.close().block(WAIT);
        }
    }

    private static Serializer serializer(String name, Function<Object, String> write) {
        return new Serializer() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public String serialize(Object value) {
                return write.apply(value);
            }

            @Override
            public Object deserialize(String text) {
                return Long.valueOf(text.trim());
            }
        };
    }

    /** Counts the rows of every table in the test's schema, and the schemas named with this run's token. */
    private static Snapshot snapshot() {
        SortedMap<String, Long> rows = new TreeMap<>();
        try (Connection c = TestDatabases.jdbc(url)) {
            List<String> tables = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT table_name FROM information_schema.tables WHERE table_schema = ?")) {
                ps.setString(1, db.name());
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        tables.add(rs.getString(1));
                    }
                }
            }
            for (String table : tables) {
                rows.put(table, db.count("SELECT COUNT(*) FROM " + db.q("\"" + table + "\"")));
            }
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT COUNT(*) FROM information_schema.schemata WHERE strpos(schema_name, ?) > 0")) {
                ps.setString(1, TOKEN);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    return new Snapshot(rows, rs.getLong(1));
                }
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Writes step 0 of a workflow over JDBC, as a corrupted or foreign database would hold it. */
    private static void insertRow(String workflowId, String stepName, String output, String error, String serialization) {
        try (Connection c = TestDatabases.jdbc(url); PreparedStatement ps = c.prepareStatement("INSERT INTO "
                + db.outputs() + " (workflow_id, step_id, step_name, output, error, serialization) VALUES (?, 0, ?, ?, ?, ?)")) {
            ps.setString(1, workflowId);
            ps.setString(2, stepName);
            ps.setString(3, output);
            ps.setString(4, error);
            ps.setString(5, serialization);
            assertEquals(1, ps.executeUpdate());
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }
}
