package dev.txstep.examples.readme;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dbos.transact.DBOS;
import dev.dbos.transact.StartWorkflowOptions;
import dev.dbos.transact.config.DBOSConfig;
import dev.txstep.AsyncDatasource;
import dev.txstep.examples.readme.ReactiveSnippet.Receipt;
import dev.txstep.examples.readme.ReactiveSnippet.Transfer;
import dev.txstep.reactor.IdempotencyKeyWebFilter;
import dev.txstep.reactor.Workflow;
import dev.txstep.spi.JdbcCoordinates;
import dev.txstep.spring.TxStepAutoConfiguration;
import dev.txstep.spring.TxstepAutoConfiguration;
import dev.txstep.testing.TestDatabases;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.data.r2dbc.autoconfigure.DataR2dbcAutoConfiguration;
import org.springframework.boot.r2dbc.autoconfigure.R2dbcAutoConfiguration;
import org.springframework.boot.r2dbc.autoconfigure.R2dbcTransactionManagerAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/**
 * Every Java block of the README is quoted, word for word, from a source file of this package, so
 * it compiles; and each of those sources runs here, on the database the block names (the local
 * PostgreSQL on 127.0.0.1:5432 or embedded H2), checked by counting what it did.
 */
class ReadmeSnippetsTest {

    private static final String POSTGRES = "r2dbc:postgresql://postgres@127.0.0.1:5432/postgres";
    private static final Pattern DATABASE = Pattern.compile("^(jdbc:postgresql://[^/?]+/)([^?]*)(.*)$");

    @BeforeAll
    static void tables() {
        TestDatabases.postgresR2dbcUrl(); // fails, saying how to start one, when no PostgreSQL is there
        // The tables the snippets name, in the database they name; each test uses accounts of its own.
        TestDatabases.exec(POSTGRES, "CREATE TABLE IF NOT EXISTS accounts (id text PRIMARY KEY, balance bigint NOT NULL)");
        TestDatabases.exec(POSTGRES, "CREATE TABLE IF NOT EXISTS receipts (id bigserial PRIMARY KEY, amount bigint NOT NULL)");
    }

    @Test
    void everyJavaBlockOfTheReadmeIsQuotedFromASourceHere() {
        List<String> blocks = Readme.blocks("java");
        List<String> quoted = Readme.quotedRegions();
        assertTrue(blocks.size() >= 8, "README java blocks found: " + blocks.size());
        for (String block : blocks) {
            assertTrue(quoted.contains(block), "this README block is not quoted from a compiled source:\n" + block);
        }
        for (String region : quoted) {
            assertTrue(blocks.contains(region), "this quoted region is not in the README any more:\n" + region);
        }
    }

    @Test
    void theReactiveSnippetMovesTheMoneyOnceAcrossARetry() {
        Transfer t = new Transfer(account(1_000), account(0), 100);
        String key = "readme-" + UUID.randomUUID();
        try (ReactiveSnippet snippet = new ReactiveSnippet()) {
            Receipt first = snippet.transfer(key, t).block(Duration.ofSeconds(30));
            Receipt retried = snippet.transfer(key, t).block(Duration.ofSeconds(30));
            assertEquals(first, retried, "the retry gets the same receipt");
        }
        assertEquals(900, balance(t.from()));
        assertEquals(100, balance(t.to()));
    }

    @Test
    void theBlockingSnippetRunsOnH2() {
        BlockingSnippet.run();
        BlockingSnippet.run(); // a second run of the same workflow replays it
    }

    @Test
    void theConfigurationAndOperationsSnippetsRun() {
        AsyncDatasource ds = ConfigurationSnippet.create();
        try {
            assertEquals("dbos", ds.schema());
            String id = account(42);
            assertEquals(42L, OperationsSnippets.readOnly(ds, id).block(Duration.ofSeconds(30)));
            OperationsSnippets.retention(ds);
            assertNotNull(OperationsSnippets.metrics(POSTGRES, new SimpleMeterRegistry()));
        } finally {
            ds.close().block(Duration.ofSeconds(30));
        }
    }

    @Test
    void theMultiHostSnippetMigratesOnThePrimaryOfItsHosts() {
        // Builds without connecting; the JDBC URL its migrations would use is the one it shows.
        assertNotNull(ConfigurationSnippet.multiHost());
        assertEquals("jdbc:postgresql://db1:5432,db2:5432/app?targetServerType=primary", JdbcCoordinates.derivedFrom(
                "r2dbc:postgresql:failover://app:secret@db1:5432,db2:5432/app?targetServerType=primary").url());
    }

    @Test
    void theSpringSnippetDebitsOnceAcrossARetryOfItsWorkflow() {
        new ApplicationContextRunner()
                .withConfiguration(AutoConfigurations.of(R2dbcAutoConfiguration.class,
                        R2dbcTransactionManagerAutoConfiguration.class, DataR2dbcAutoConfiguration.class,
                        TxstepAutoConfiguration.class, TxStepAutoConfiguration.class))
                .withUserConfiguration(SpringSnippet.class)
                .withPropertyValues("spring.r2dbc.url=" + POSTGRES)
                .run(context -> {
                    String id = account(1_000);
                    String key = "idempotency-key:readme-" + UUID.randomUUID();
                    SpringSnippet.Payments payments = context.getBean(SpringSnippet.Payments.class);
                    SpringSnippet.Account first = Workflow.run(key, payments.debit(id, 100)).block(Duration.ofSeconds(30));
                    SpringSnippet.Account retried = Workflow.run(key, payments.debit(id, 100)).block(Duration.ofSeconds(30));
                    assertEquals(first, retried);
                    assertEquals(900, balance(id));
                });
    }

    @Test
    void theWebFluxSnippetDeclaresTheFilter() {
        new ApplicationContextRunner().withUserConfiguration(WebFluxSnippet.class)
                .withBean(AsyncDatasource.class, () -> AsyncDatasource.create(TestDatabases.h2R2dbcUrl()).block())
                .run(context -> assertNotNull(context.getBean(IdempotencyKeyWebFilter.class)));
    }

    @Test
    void theDbosSnippetTransfersOnceInADbosWorkflow() {
        String systemDb = TestDatabases.uniqueSchema("readme_dbos");
        Matcher m = DATABASE.matcher(TestDatabases.postgresJdbcUrl());
        assertTrue(m.matches(), TestDatabases.postgresJdbcUrl());
        DBOS dbos = new DBOS(DBOSConfig.defaults("txstep-readme").withDatabaseUrl(m.group(1) + systemDb + m.group(3))
                .withDbUser("postgres").withDbPassword("").withAppVersion("readme").disableAdminServer());
        DbosSnippet.Transfer t = new DbosSnippet.Transfer(account(500), account(0), 50);
        try {
            DbosSnippet snippet = new DbosSnippet(dbos);
            DbosSnippet.Transfers transfers = dbos.registerProxy(DbosSnippet.Transfers.class, snippet.new TransfersImpl());
            dbos.launch();
            String workflowId = "readme-dbos-" + UUID.randomUUID();
            long left = dbos.startWorkflow(() -> transfers.transfer(t), new StartWorkflowOptions(workflowId)).getResult();
            long again = dbos.startWorkflow(() -> transfers.transfer(t), new StartWorkflowOptions(workflowId)).getResult();
            assertEquals(450, left);
            assertEquals(left, again);
        } finally {
            dbos.shutdown();
            TestDatabases.exec(POSTGRES, "DROP DATABASE IF EXISTS " + systemDb + " WITH (FORCE)");
        }
        assertEquals(450, balance(t.from()));
        assertEquals(50, balance(t.to()));
    }

    /** A new account with the given balance; its id. */
    private static String account(long balance) {
        String id = "readme-" + UUID.randomUUID();
        TestDatabases.exec(POSTGRES, "INSERT INTO accounts VALUES ('" + id + "', " + balance + ")");
        return id;
    }

    private static long balance(String id) {
        return TestDatabases.queryLong(POSTGRES, "SELECT balance FROM accounts WHERE id = '" + id + "'");
    }
}
