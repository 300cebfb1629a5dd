package dev.txstep;

import static dev.txstep.testing.Workflows.inWorkflow;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.txstep.serialization.Serializer;
import dev.txstep.spi.WorkflowScope;
import dev.txstep.testing.TestDatabases;
import io.r2dbc.spi.ConnectionFactories;
import io.r2dbc.spi.ConnectionFactory;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;

/**
 * Bad inputs through the public API, on PostgreSQL. For each one this proves that:
 * <ol>
 *   <li>txstep answers with the exact {@link DatasourceException} subclass the contract names (not a
 *       superclass, not a raw driver/Jackson/Reactor exception);</li>
 *   <li>the message names the problem (a meaningful substring is asserted), so a user can fix it;</li>
 *   <li>nothing was written: the rows of {@code datasource_outputs} and of this test's own tables are
 *       exactly what they were before (and for configuration errors, no schema was created); for a
 *       step that wrote before failing, its write is rolled back.</li>
 * </ol>
 * One schema for the whole class, dropped afterwards; every test uses fresh workflow ids.
 */
class BadInputTest {

    private static final Duration WAIT = Duration.ofSeconds(30);

    private static String url;
    private static String schema;
    private static AsyncDatasource ds;
    private static BlockingDatasource bds;

    /** The state every test compares before and after its bad input. */
    private Snapshot before;

    record Snapshot(long outputs, long counter, long effects) {
    }

    @BeforeAll
    static void createDatasource() {
        url = TestDatabases.postgresR2dbcUrl();
        schema = TestDatabases.uniqueSchema("bad");
        ds = AsyncDatasource.create(DatasourceConfig.builder().url(url).schema(schema).maxPoolSize(4)
                .retryPolicy(RetryPolicy.defaults().withMaxAttempts(3)).build()).block(WAIT);
        bds = BlockingDatasource.wrap(ds);
        TestDatabases.exec(url, "CREATE TABLE " + q("counter") + " (id INT PRIMARY KEY, n INT NOT NULL)");
        TestDatabases.exec(url, "INSERT INTO " + q("counter") + " VALUES (1, 0)");
        TestDatabases.exec(url, "CREATE TABLE " + q("effects") + " (id VARCHAR(64) PRIMARY KEY, note VARCHAR(200))");
        // A table a successful injection would be able to drop: it must survive every test.
        TestDatabases.exec(url, "CREATE TABLE " + q("sentinel") + " (id INT)");
    }

    @AfterAll
    static void dropSchema() {
        if (ds != null) {
            ds.close().block(WAIT);
        }
        TestDatabases.exec(url, "DROP SCHEMA \"" + schema + "\" CASCADE");
    }

    @BeforeEach
    void takeSnapshot() {
        before = snapshot();
    }

    @AfterEach
    void nothingWasWritten() {
        // Every bad input below leaves the database as it found it (tests that insert a recorded row
        // themselves take a new snapshot after doing so).
        assertEquals(before, snapshot(), "no rows were added, changed or removed");
        assertEquals(1, count("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
                schema, "sentinel"), "the sentinel table survived");
    }

    // ---------------------------------------------------------------- configuration: database

    @Test
    void aDatabaseWithoutADialectIsRefusedAtCreate() {
        // Stands in for a driver txstep has no dialect for (no Oracle server here): only its
        // metadata is ever asked, so nothing else needs to work.
        ConnectionFactory oracle = new ConnectionFactory() {
            @Override
            public Publisher<? extends io.r2dbc.spi.Connection> create() {
                return Mono.error(new AssertionError("no connection may be opened"));
            }

            @Override
            public io.r2dbc.spi.ConnectionFactoryMetadata getMetadata() {
                return () -> "Oracle Database";
            }
        };
        expect(InvalidConfigurationException.class, "database 'Oracle Database' is not supported",
                () -> AsyncDatasource.create(DatasourceConfig.builder().connectionFactory(oracle).migrate(false)
                        .build()).block());
    }

    // ---------------------------------------------------------------- configuration: schema

    @Test
    void schemaWithAnInjectionIsRefused() {
        String injection = "dbos\"; drop table x; --";
        InvalidConfigurationException e = expect(InvalidConfigurationException.class,
                "schema must be a plain SQL identifier", () -> config().schema(injection));
        assertTrue(e.getMessage().contains(injection), "the message quotes the refused value: " + e.getMessage());
        // Aimed at a table we can watch: refused the same way, the sentinel survives (checked after each test).
        expect(InvalidConfigurationException.class, "plain SQL identifier",
                () -> config().schema(schema + "\".sentinel; drop table \"" + schema + "\".sentinel; --"));
        assertEquals(0, schemaCount(injection), "no schema of that name was created");
    }

    @Test
    void schemaLongerThan63CharactersIsRefused() {
        String longName = "s".repeat(64);
        expect(InvalidConfigurationException.class, "at most 63 characters", () -> config().schema(longName));
        assertEquals(0, schemaCount(longName));
        // The limit is exact: 63 characters is a valid identifier (PostgreSQL's NAMEDATALEN - 1).
        assertDoesNotThrow(() -> config().schema("s".repeat(63)).build());
    }

    @Test
    void schemaStartingWithADigitIsRefused() {
        expect(InvalidConfigurationException.class, "was '1abc'", () -> config().schema("1abc"));
        expect(InvalidConfigurationException.class, "plain SQL identifier", () -> config().schema("has space"));
        expect(InvalidConfigurationException.class, "was 'null'", () -> config().schema(null));
        assertEquals(0, schemaCount("1abc"));
    }

    // ---------------------------------------------------------------- workflow ids and step keys

    @Test
    void nullBlankOrWhitespaceWorkflowIdsAreRefused() {
        expect(InvalidInputException.class, "workflow id must not be null", () -> WorkflowScope.start(null));
        expect(InvalidInputException.class, "workflow id must not be blank", () -> WorkflowScope.start(""));
        expect(InvalidInputException.class, "workflow id must not be blank", () -> WorkflowScope.start(" \t\n"));
        expect(InvalidInputException.class, "workflow id must not be null", () -> new StepKey(null, 0));
        expect(InvalidInputException.class, "workflow id must not be blank", () -> new StepKey("   ", 0));
        expect(InvalidInputException.class, "step id must be zero or more, was -1", () -> new StepKey("wf", -1));
        expect(InvalidInputException.class, "first step id must be zero or more, was -3",
                () -> WorkflowScope.resume("wf", -3));
        expect(InvalidInputException.class, "NUL", () -> WorkflowScope.start("a\0b"));
    }

    @Test
    void overLongWorkflowIdIsRefused() {
        int tooLong = StepKey.MAX_WORKFLOW_ID_LENGTH + 1;
        expect(InvalidInputException.class, tooLong + " characters long; the limit is " + StepKey.MAX_WORKFLOW_ID_LENGTH,
                () -> WorkflowScope.start("w".repeat(tooLong)));
        expect(InvalidInputException.class, "the limit is", () -> new StepKey("w".repeat(tooLong), 0));
        // The limit itself is accepted.
        assertEquals(StepKey.MAX_WORKFLOW_ID_LENGTH,
                WorkflowScope.start("w".repeat(StepKey.MAX_WORKFLOW_ID_LENGTH)).workflowId().length());
    }

    // ---------------------------------------------------------------- functions and options

    @Test
    void nullStepFunctionsAreRefused() {
        DatasourceOptions named = DatasourceOptions.named("null-fn");
        expect(InvalidInputException.class, "step function must not be null",
                () -> ds.runTxStepAsync((Function<TxSession, Publisher<Object>>) null));
        expect(InvalidInputException.class, "step function must not be null",
                () -> ds.runTxStepAsync(named, (Function<TxSession, Publisher<Object>>) null));
        expect(InvalidInputException.class, "step function must not be null",
                () -> ds.runTxStepAsync(named, Integer.class, null));
        expect(InvalidInputException.class, "output type must not be null",
                () -> ds.runTxStepAsync(named, null, s -> Mono.just(1)));
        expect(InvalidInputException.class, "transaction function must not be null",
                () -> ds.transaction(named, null));
        expect(InvalidInputException.class, "step function must not be null",
                () -> bds.runTxStep(named, null));
        expect(InvalidInputException.class, "step function must not be null",
                () -> bds.runTxStep((Function<BlockingTxSession, Object>) null));
        expect(InvalidInputException.class, "transaction function must not be null",
                () -> bds.transaction(named, null));
        expect(InvalidInputException.class, "datasource must not be null", () -> BlockingDatasource.wrap(null));
    }

    @Test
    void blankStepNamesAreRefused() {
        expect(InvalidInputException.class, "step name must be null (for the default) or a non-blank",
                () -> new DatasourceOptions("  ", IsolationLevel.SERIALIZABLE));
        expect(InvalidInputException.class, "was ''", () -> DatasourceOptions.named(""));
        expect(InvalidInputException.class, "without NUL characters", () -> DatasourceOptions.named("a\0b"));
    }

    @Test
    void aPublisherOfTwoValuesIsRefusedAndRolledBack() {
        String id = wf();
        AtomicInteger cancelled = new AtomicInteger();
        Mono<Object> two = ds.runTxStepAsync(DatasourceOptions.named("two-values"),
                s -> s.execute(bumpSql()).thenMany(Flux.<Object>just(1, 2, 3).doOnCancel(cancelled::incrementAndGet)));
        expect(InvalidInputException.class, "emitted more than one value", () -> inWorkflow(id, two).block(WAIT));
        // Outside a workflow as well.
        expect(InvalidInputException.class, "emitted more than one value", () -> two.block(WAIT));
        assertEquals(2, cancelled.get(), "the function's publisher was cancelled at its second value, both times");
        // The counter is unchanged (checked after the test): the UPDATE did not persist.
    }

    @Test
    void aNullPublisherIsRefused() {
        String id = wf();
        AtomicBoolean ran = new AtomicBoolean();
        Mono<Object> nothing = ds.runTxStepAsync(DatasourceOptions.named("null-publisher"), s -> {
            ran.set(true);
            return null;
        });
        expect(InvalidInputException.class, "returned a null publisher", () -> inWorkflow(id, nothing).block(WAIT));
        assertTrue(ran.get(), "the function was called; its result is what was refused");
    }

    @Test
    void nonSerializableOutputsAreRefusedAndRolledBack() {
        String id = wf();
        Mono<Object> object = ds.runTxStepAsync(DatasourceOptions.named("object"),
                s -> s.execute(bumpSql()).thenReturn(new Object()));
        OutputSerializationException e = expect(OutputSerializationException.class, "java.lang.Object",
                () -> inWorkflow(id, object).block(WAIT));
        assertTrue(e.getMessage().contains("(" + id + ", 0)"), "names the step key: " + e.getMessage());
        assertTrue(e.getMessage().contains("rolled back"), e.getMessage());

        Mono<Object> thread = ds.runTxStepAsync(DatasourceOptions.named("thread"),
                s -> s.execute(bumpSql()).thenReturn(new Thread(() -> { })));
        expect(OutputSerializationException.class, "java.lang.Thread", () -> inWorkflow(wf(), thread).block(WAIT));
    }

    @Test
    void aSerializerThatThrowsFailsTheStepAndRecordsNothing() {
        Serializer exploding = new Serializer() {
            @Override
            public String name() {
                return "exploding";
            }

            @Override
            public String serialize(Object value) {
                throw new IllegalStateException("serializer exploded on purpose");
            }

            @Override
            public Object deserialize(String text) {
                throw new IllegalStateException("never reached");
            }
        };
        AsyncDatasource other = AsyncDatasource.create(config().schema(schema).migrate(false).maxPoolSize(2)
                .serializer(exploding).build()).block(WAIT);
        try {
            Mono<Integer> step = other.runTxStepAsync(DatasourceOptions.named("exploding"),
                    s -> s.execute(bumpSql()).thenReturn(1));
            OutputSerializationException e = expect(OutputSerializationException.class, "serializer exploded on purpose",
                    () -> inWorkflow(wf(), step).block(WAIT));
            assertSame(IllegalStateException.class, e.getCause().getClass(), "the serializer's failure is the cause");
        } finally {
            other.close().block(WAIT);
        }
        // A serializer with a blank name cannot be configured at all.
        expect(InvalidConfigurationException.class, "serializer name must not be blank",
                () -> config().serializer(new Serializer() {
                    @Override
                    public String name() {
                        return " ";
                    }

                    @Override
                    public String serialize(Object value) {
                        return "";
                    }

                    @Override
                    public Object deserialize(String text) {
                        return null;
                    }
                }));
        expect(InvalidConfigurationException.class, "serializer must not be null", () -> config().serializer(null));
    }

    // ---------------------------------------------------------------- bad recorded rows

    @Test
    void aRecordedRowWithCorruptOutputIsAnErrorAndTheStepDoesNotRun() {
        String id = wf();
        insertRow(id, 0, "corrupt", "{not json", null, "jackson");
        before = snapshot();
        AtomicBoolean ran = new AtomicBoolean();
        OutputSerializationException e = expect(OutputSerializationException.class, "cannot be read back",
                () -> inWorkflow(id, markingStep("corrupt", ran)).block(WAIT));
        assertTrue(e.getMessage().contains("(" + id + ", 0)"), "names the step key: " + e.getMessage());
        assertFalse(ran.get(), "a recorded step never runs again, even when its record is unreadable");
        assertEquals(1, count("SELECT COUNT(*) FROM " + q("datasource_outputs")
                + " WHERE workflow_id = ? AND output = '{not json'", id), "the row is left for an operator to inspect");
    }

    @Test
    void aRecordedRowNamingADisallowedTypeIsRefusedAndTheStepDoesNotRun() {
        String id = wf();
        insertRow(id, 0, "gadget", "[\"java.net.URL\",\"http://attacker.invalid\"]", null, "jackson");
        insertRow(id, 1, "gadget2",
                "{\"@type\":\"com.sun.rowset.JdbcRowSetImpl\",\"dataSourceName\":\"ldap://x\",\"autoCommit\":true}",
                null, "jackson");
        before = snapshot();
        AtomicBoolean ran = new AtomicBoolean();
        expect(OutputSerializationException.class, "java.net.URL",
                () -> inWorkflow(id, markingStep("gadget", ran)).block(WAIT));
        expect(OutputSerializationException.class, "com.sun.rowset.JdbcRowSetImpl",
                () -> inWorkflow(id, markingStep("gadget", ran).onErrorResume(x -> Mono.empty())
                        .then(markingStep("gadget2", ran))).block(WAIT));
        assertFalse(ran.get());
    }

    @Test
    void aRowWrittenByAnotherSerializerIsRefused() {
        String id = wf();
        insertRow(id, 0, "foreign", "\"hello\"", null, "kryo");
        before = snapshot();
        AtomicBoolean ran = new AtomicBoolean();
        OutputSerializationException e = expect(OutputSerializationException.class, "recorded by serializer 'kryo'",
                () -> inWorkflow(id, markingStep("foreign", ran)).block(WAIT));
        assertTrue(e.getMessage().contains("'jackson'"), "names the serializer in use: " + e.getMessage());
        assertFalse(ran.get());
    }

    @Test
    void aRecordedErrorThatCannotBeReadIsAnOutputSerializationException() {
        String id = wf();
        insertRow(id, 0, "bad-error", null, "{broken", "jackson");
        insertRow(id, 1, "typeless-error", null, "{\"message\":\"no type\"}", "jackson");
        before = snapshot();
        AtomicBoolean ran = new AtomicBoolean();
        expect(OutputSerializationException.class, "is not readable",
                () -> inWorkflow(id, markingStep("bad-error", ran)).block(WAIT));
        expect(OutputSerializationException.class, "names no type",
                () -> inWorkflow(id, markingStep("bad-error", ran).onErrorResume(x -> Mono.empty())
                        .then(markingStep("typeless-error", ran))).block(WAIT));
        assertFalse(ran.get());
    }

    @Test
    void aRecordedOutputOfTheWrongTypeIsRefusedForATypedStep() {
        String id = wf();
        insertRow(id, 0, "typed", "\"a string\"", null, "jackson");
        before = snapshot();
        AtomicBoolean ran = new AtomicBoolean();
        Mono<Long> typed = ds.runTxStepAsync(DatasourceOptions.named("typed"), Long.class, s -> {
            ran.set(true);
            return Mono.just(1L);
        });
        expect(OutputSerializationException.class, "not a java.lang.Long",
                () -> inWorkflow(id, typed).block(WAIT));
        assertFalse(ran.get());
    }

    @Test
    void aRecordedRowOfAnotherNameIsNonDeterminism() {
        String id = wf();
        insertRow(id, 0, "recorded-name", "1", null, "jackson");
        before = snapshot();
        AtomicBoolean ran = new AtomicBoolean();
        NonDeterminismException e = expect(NonDeterminismException.class, "was recorded as 'recorded-name'",
                () -> inWorkflow(id, markingStep("replayed-name", ran)).block(WAIT));
        assertEquals(new StepKey(id, 0), e.key());
        assertFalse(ran.get());
    }

    // ---------------------------------------------------------------- URLs

    @Test
    void anUnknownDriverIsAnInvalidConfiguration() {
        String unknown = "r2dbc:nosuchdb://x/y";
        // The missing driver is reported as such (not as a JDBC URL that cannot be derived), through
        // create's Mono, by the blocking facade, and by the builder whether or not migrations are on.
        StepVerifier.create(AsyncDatasource.create(unknown))
                .expectErrorSatisfies(e -> assertExact(InvalidConfigurationException.class,
                        "no R2DBC driver on the class path accepts 'r2dbc:nosuchdb://x/y'", e))
                .verify(WAIT);
        expect(InvalidConfigurationException.class, "no R2DBC driver on the class path accepts",
                () -> BlockingDatasource.create(unknown));
        String schemaName = TestDatabases.uniqueSchema("nodriver");
        expect(InvalidConfigurationException.class, "no R2DBC driver on the class path accepts",
                () -> config().url(unknown).schema(schemaName).migrate(false).build());
        assertEquals(0, schemaCount(schemaName));
    }

    @Test
    void aMalformedUrlIsAnInvalidConfiguration() {
        StepVerifier.create(AsyncDatasource.create("not a url"))
                .expectErrorSatisfies(e -> assertExact(InvalidConfigurationException.class, "malformed R2DBC URL 'not a url'", e))
                .verify(WAIT);
        expect(InvalidConfigurationException.class, "malformed R2DBC URL",
                () -> AsyncDatasource.create("not a url").block(WAIT));
        expect(InvalidConfigurationException.class, "malformed R2DBC URL", () -> config().url("not a url"));
        expect(InvalidConfigurationException.class, "R2DBC URL must not be blank", () -> config().url("  "));
        expect(InvalidConfigurationException.class, "R2DBC URL must not be blank",
                () -> AsyncDatasource.create((String) null).block(WAIT));
        expect(InvalidConfigurationException.class, "config must not be null",
                () -> AsyncDatasource.create((DatasourceConfig) null).block(WAIT));
        expect(InvalidConfigurationException.class, "jdbcUrl must start with 'jdbc:'",
                () -> config().jdbcUrl("postgresql://x/y"));
    }

    // ---------------------------------------------------------------- pool and retry settings

    @Test
    void aNegativeInitialPoolSizeIsRefused() {
        expect(InvalidConfigurationException.class, "initialPoolSize must be zero or more, was -1",
                () -> config().initialPoolSize(-1));
    }

    @Test
    void aMaxPoolSizeOfZeroIsRefused() {
        expect(InvalidConfigurationException.class, "maxPoolSize must be at least 1, was 0",
                () -> config().maxPoolSize(0));
    }

    @Test
    void anInitialPoolSizeAboveTheMaximumIsRefusedAtBuild() {
        String schemaName = TestDatabases.uniqueSchema("pool");
        // Each setter alone is valid; only together are they wrong, so build() decides.
        DatasourceConfig.Builder builder = config().schema(schemaName).initialPoolSize(5).maxPoolSize(2);
        expect(InvalidConfigurationException.class, "initialPoolSize (5) must not exceed maxPoolSize (2)", builder::build);
        assertEquals(0, schemaCount(schemaName));
    }

    @Test
    void outOfRangeRetryPoliciesAreRefused() {
        expect(InvalidConfigurationException.class, "retry maxAttempts must be at least 1, was 0",
                () -> new RetryPolicy(0, Duration.ofMillis(10), Duration.ofSeconds(1), 0.5));
        expect(InvalidConfigurationException.class, "retry maxAttempts must be at least 1, was 0",
                () -> RetryPolicy.defaults().withMaxAttempts(0));
        expect(InvalidConfigurationException.class, "retry initialBackoff must be positive, was PT-0.001S",
                () -> RetryPolicy.defaults().withBackoff(Duration.ofMillis(-1), Duration.ofSeconds(1)));
        expect(InvalidConfigurationException.class, "retry initialBackoff must be positive",
                () -> RetryPolicy.defaults().withBackoff(Duration.ZERO, Duration.ofSeconds(1)));
        expect(InvalidConfigurationException.class, "retry maxBackoff must be at least initialBackoff",
                () -> RetryPolicy.defaults().withBackoff(Duration.ofSeconds(2), Duration.ofSeconds(1)));
        expect(InvalidConfigurationException.class, "retry jitter must be between 0 and 1, was 2.0",
                () -> RetryPolicy.defaults().withJitter(2.0));
        expect(InvalidConfigurationException.class, "retry jitter must be between 0 and 1, was NaN",
                () -> RetryPolicy.defaults().withJitter(Double.NaN));
        expect(InvalidConfigurationException.class, "retryPolicy must not be null", () -> config().retryPolicy(null));
    }

    @Test
    void zeroOrNegativeTimeoutsAreRefused() {
        expect(InvalidConfigurationException.class, "acquireTimeout must be positive or null, was PT0S",
                () -> config().acquireTimeout(Duration.ZERO));
        expect(InvalidConfigurationException.class, "acquireTimeout must be positive or null",
                () -> config().acquireTimeout(Duration.ofSeconds(-1)));
        expect(InvalidConfigurationException.class, "maxIdleTime must be positive, was null",
                () -> config().maxIdleTime(null));
    }

    // ---------------------------------------------------------------- misuse

    @Test
    void sqlSessionOutsideAStepIsNoTransaction() {
        StepVerifier.create(ds.sqlSession())
                .expectErrorSatisfies(e -> assertExact(NoTransactionException.class, "outside a transaction step", e))
                .verify(WAIT);
        expect(NoTransactionException.class, "outside a transaction step", () -> bds.sqlSession());
        // Inside a step of another datasource it is still "no transaction of *this* datasource".
        AsyncDatasource other = AsyncDatasource.create(config().schema(schema).migrate(false).maxPoolSize(1).build())
                .block(WAIT);
        try {
            expect(NoTransactionException.class, "of this datasource",
                    () -> other.runTxStepAsync(DatasourceOptions.named("foreign-session"),
                            s -> ds.sqlSession().flatMap(foreign -> foreign.execute(bumpSql()))).block(WAIT));
        } finally {
            other.close().block(WAIT);
        }
    }

    @Test
    void anUnknownIsolationLevelIsRefused() {
        expect(InvalidInputException.class, "unknown isolation level 'chaos'", () -> IsolationLevel.parse("chaos"));
        expect(InvalidInputException.class, "unknown isolation level 'null'", () -> IsolationLevel.parse(null));
        expect(InvalidInputException.class, "use SERIALIZABLE, REPEATABLE READ or READ COMMITTED",
                () -> IsolationLevel.parse("READ UNCOMMITTED"));
        // The accepted spellings, for contrast.
        assertEquals(IsolationLevel.READ_COMMITTED, IsolationLevel.parse(" read_committed "));
        assertEquals(IsolationLevel.REPEATABLE_READ, IsolationLevel.parse("Repeatable   Read"));
    }

    @Test
    void aNullSqlParameterIsRefusedRolledBackAndNotRecorded() {
        String id = wf();
        Mono<Long> step = ds.runTxStepAsync(DatasourceOptions.named("null-param"),
                s -> s.execute(bumpSql()).then(s.execute("INSERT INTO " + q("effects") + " VALUES ($1, $2)", "k", null)));
        expect(InvalidInputException.class, "parameter $2 of", () -> inWorkflow(id, step).block(WAIT));
        // Not the step's outcome, so not recorded: the same key runs normally once the call is fixed
        // (checked by the snapshot: no row for this workflow, counter unchanged).
        expect(InvalidInputException.class, "Parameters.in(R2dbcType.X)", () -> inWorkflow(wf(), step).block(WAIT));
        // The blocking session refuses it the same way.
        expect(InvalidInputException.class, "parameter $1 of",
                () -> bds.runTxStep(DatasourceOptions.named("null-param-blocking"), s -> {
                    s.execute(bumpSql());
                    return s.execute("UPDATE " + q("counter") + " SET n = $1 WHERE id = 1", (Object) null);
                }));
        expect(InvalidInputException.class, "SQL must not be null or blank",
                () -> ds.runTxStepAsync(DatasourceOptions.named("blank-sql"), s -> s.execute(" ")).block(WAIT));
        expect(InvalidInputException.class, "row mapper must not be null",
                () -> ds.runTxStepAsync(DatasourceOptions.named("null-mapper"),
                        s -> s.query("SELECT 1", null).then()).block(WAIT));
    }

    @Test
    void theBlockingFacadeRefusesANonBlockingThread() {
        AtomicBoolean ran = new AtomicBoolean();
        BlockingCallException e = expect(BlockingCallException.class, "non-blocking thread",
                () -> Mono.fromCallable(() -> bds.runTxStep(DatasourceOptions.named("on-event-loop"), s -> {
                    ran.set(true);
                    return s.execute(bumpSql());
                })).subscribeOn(Schedulers.parallel()).block(WAIT));
        assertTrue(e.getMessage().contains("parallel"), "names the thread: " + e.getMessage());
        assertFalse(ran.get(), "refused before anything ran");
        // Creating a blocking datasource there is refused too, before anything is created.
        String schemaName = TestDatabases.uniqueSchema("nonblocking");
        expect(BlockingCallException.class, "BlockingDatasource.create",
                () -> Mono.fromCallable(() -> BlockingDatasource.create(config().schema(schemaName).build()))
                        .subscribeOn(Schedulers.parallel()).block(WAIT));
        assertEquals(0, schemaCount(schemaName));
    }

    @Test
    void aConnectionFactoryWithoutJdbcUrlCannotMigrate() {
        String schemaName = TestDatabases.uniqueSchema("cf");
        ConnectionFactory factory = ConnectionFactories.get(url); // creating it does not connect
        expect(InvalidConfigurationException.class, "with a connectionFactory, migrations need jdbcUrl(...)",
                () -> DatasourceConfig.builder().connectionFactory(factory).schema(schemaName).build());
        expect(InvalidConfigurationException.class, "set exactly one of url(...) and connectionFactory(...)",
                () -> DatasourceConfig.builder().url(url).connectionFactory(factory).build());
        expect(InvalidConfigurationException.class, "set exactly one of url(...) and connectionFactory(...)",
                () -> DatasourceConfig.builder().build());
        expect(InvalidConfigurationException.class, "connectionFactory must not be null",
                () -> DatasourceConfig.builder().connectionFactory(null));
        assertEquals(0, schemaCount(schemaName));
    }

    @Test
    void aClosedDatasourceRefusesSteps() {
        AsyncDatasource other = AsyncDatasource.create(config().schema(schema).migrate(false).maxPoolSize(1).build())
                .block(WAIT);
        other.close().block(WAIT);
        AtomicBoolean ran = new AtomicBoolean();
        expect(DatasourceClosedException.class, "the datasource is closed",
                () -> inWorkflow(wf(), markingStep(other, "after-close", ran)).block(WAIT));
        assertFalse(ran.get());
    }

    // ---------------------------------------------------------------- helpers

    /** Asserts the action throws exactly {@code type} (no subclass) with a message containing {@code text}. */
    private static <T extends DatasourceException> T expect(Class<T> type, String text, Executable action) {
        Throwable thrown = assertThrows(Throwable.class, action);
        assertExact(type, text, thrown);
        return type.cast(thrown);
    }

    private static void assertExact(Class<? extends Throwable> type, String text, Throwable thrown) {
        if (thrown.getClass() != type) {
            throw new AssertionError("expected exactly " + type.getName() + " but got " + thrown, thrown);
        }
        assertTrue(thrown.getMessage() != null && thrown.getMessage().contains(text),
                () -> "message of " + type.getSimpleName() + " should contain '" + text + "' but was: " + thrown.getMessage());
    }

    private static DatasourceConfig.Builder config() {
        return DatasourceConfig.builder().url(url);
    }

    private static String q(String table) {
        return "\"" + schema + "\"." + table;
    }

    private static String bumpSql() {
        return "UPDATE " + q("counter") + " SET n = n + 1 WHERE id = 1";
    }

    private static String wf() {
        return "bad-" + UUID.randomUUID();
    }

    /** A step that would bump the counter and notes that it ran. */
    private static Mono<Integer> markingStep(String name, AtomicBoolean ran) {
        return markingStep(ds, name, ran);
    }

    private static Mono<Integer> markingStep(AsyncDatasource on, String name, AtomicBoolean ran) {
        return on.runTxStepAsync(DatasourceOptions.named(name), s -> {
            ran.set(true);
            return s.execute(bumpSql()).thenReturn(1);
        });
    }

    private Snapshot snapshot() {
        return new Snapshot(count("SELECT COUNT(*) FROM " + q("datasource_outputs")),
                count("SELECT n FROM " + q("counter") + " WHERE id = 1"),
                count("SELECT COUNT(*) FROM " + q("effects")));
    }

    private static long schemaCount(String name) {
        return count("SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = ?", name);
    }

    /** Writes a recorded row directly over JDBC, as a corrupt or foreign database would hold it. */
    private static void insertRow(String workflowId, int stepId, String name, String output, String error,
            String serialization) {
        try (Connection c = TestDatabases.jdbc(url); PreparedStatement s = c.prepareStatement("INSERT INTO "
                + q("datasource_outputs") + " (workflow_id, step_id, step_name, output, error, serialization)"
                + " VALUES (?, ?, ?, ?, ?, ?)")) {
            s.setString(1, workflowId);
            s.setInt(2, stepId);
            s.setString(3, name);
            s.setString(4, output);
            s.setString(5, error);
            s.setString(6, serialization);
            assertEquals(1, s.executeUpdate());
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    private static long count(String sql, Object... params) {
        try (Connection c = TestDatabases.jdbc(url); PreparedStatement s = c.prepareStatement(sql)) {
            for (int i = 0; i < params.length; i++) {
                s.setObject(i + 1, params[i]);
            }
            try (ResultSet rs = s.executeQuery()) {
                assertTrue(rs.next(), "one row from " + sql);
                return rs.getLong(1);
            }
        } catch (SQLException e) {
            throw new IllegalStateException("failed: " + sql, e);
        }
    }
}
