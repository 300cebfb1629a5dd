package dev.txstep.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.txstep.AsyncDatasource;
import dev.txstep.BlockingDatasource;
import dev.txstep.DatasourceClosedException;
import dev.txstep.DatasourceConfig;
import dev.txstep.RetryPolicy;
import dev.txstep.micrometer.MicrometerStepObserver;
import dev.txstep.micrometer.ObservationStepObserver;
import dev.txstep.observe.StepObserver;
import dev.txstep.DatasourceOptions;
import io.micrometer.observation.ObservationRegistry;
import io.micrometer.observation.tck.TestObservationRegistry;
import io.micrometer.observation.tck.TestObservationRegistryAssert;
import dev.txstep.testing.TestDatabases;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.r2dbc.spi.ConnectionFactories;
import io.r2dbc.spi.ConnectionFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException;
import org.springframework.boot.health.contributor.ReactiveHealthIndicator;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.r2dbc.autoconfigure.R2dbcAutoConfiguration;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.assertj.AssertableApplicationContext;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import reactor.core.publisher.Mono;

/**
 * The auto-configuration's conditions, one context per test, on the real local PostgreSQL: what is
 * created is checked by counting tables and rows over JDBC. Every test uses its own schema, dropped
 * afterwards.
 */
class TxstepAutoConfigurationTest {

    private static final String URL = TestDatabases.postgresR2dbcUrl();

    private final List<String> schemas = new ArrayList<>();

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(R2dbcAutoConfiguration.class, TxstepAutoConfiguration.class,
                    TxstepMetricsAutoConfiguration.class, TxstepObservationAutoConfiguration.class,
                    TxstepHealthAutoConfiguration.class));

    @AfterEach
    void dropSchemas() {
        schemas.forEach(schema -> TestDatabases.exec(URL, "DROP SCHEMA IF EXISTS \"" + schema + "\" CASCADE"));
    }

    @Test
    void withSpringR2dbcUrlTheDatasourceUsesSpringsPoolAndTheTableIsMigrated() {
        String schema = schema();
        runner.withPropertyValues("spring.r2dbc.url=" + URL, "txstep.schema=" + schema).run(context -> {
            assertThat(context).hasNotFailed().hasSingleBean(AsyncDatasource.class)
                    .hasSingleBean(BlockingDatasource.class);
            AsyncDatasource datasource = context.getBean(AsyncDatasource.class);
            assertSame(context.getBean(ConnectionFactory.class), datasource.connectionFactory(), "Spring's pool, reused");
            assertSame(datasource, context.getBean(BlockingDatasource.class).async());
            assertEquals(1, tables(schema, "datasource_outputs"));
            assertEquals(1, tables(schema, "txstep_schema_history"));
            assertEquals(1L, datasource.runTxStepAsync(session -> session.execute("SELECT 1")).block());
        });
    }

    @Test
    void withoutAConnectionFactoryNothingIsCreated() {
        new ApplicationContextRunner().withConfiguration(AutoConfigurations.of(TxstepAutoConfiguration.class))
                .withPropertyValues("txstep.schema=" + schema())
                .run(context -> assertThat(context).hasNotFailed().doesNotHaveBean(AsyncDatasource.class)
                        .doesNotHaveBean(BlockingDatasource.class));
    }

    @Test
    void withoutActuatorMicrometerOrWebFluxTheDatasourceIsStillThere() {
        // The optional parts' auto-configurations back off on their class conditions, before their
        // classes (whose annotations name the missing types) are loaded.
        runner.withConfiguration(AutoConfigurations.of(TxstepWebFluxAutoConfiguration.class))
                .withClassLoader(new FilteredClassLoader("org.springframework.boot.health.", "io.micrometer.core.",
                        "org.springframework.web.server."))
                .withPropertyValues("spring.r2dbc.url=" + URL, "txstep.schema=" + schema(),
                        "txstep.web.idempotency-key.enabled=true")
                .run(context -> assertThat(context).hasNotFailed().hasSingleBean(AsyncDatasource.class)
                        .doesNotHaveBean("txstepHealthIndicator").doesNotHaveBean(MicrometerStepObserver.class)
                        .doesNotHaveBean("txstepIdempotencyKeyWebFilter"));
    }

    @Test
    void anApplicationsOwnDatasourceWinsAndGetsTheBlockingFacade() {
        String starterSchema = schema();
        runner.withPropertyValues("spring.r2dbc.url=" + URL, "txstep.schema=" + starterSchema)
                .withUserConfiguration(OwnDatasource.class)
                .run(context -> {
                    assertThat(context).hasNotFailed().hasSingleBean(AsyncDatasource.class);
                    AsyncDatasource own = context.getBean(AsyncDatasource.class);
                    assertSame(own, context.getBean(OwnDatasource.class).datasource);
                    assertSame(own, context.getBean(BlockingDatasource.class).async());
                    assertEquals(0, tables(starterSchema, "datasource_outputs"), "the starter migrated nothing");
                });
    }

    @Test
    void propertiesAreBoundAndTheDefaultsAreCores() {
        runner.withPropertyValues("spring.r2dbc.url=" + URL, "txstep.schema=" + schema(), "txstep.retry.max-attempts=3",
                "txstep.retry.initial-backoff=5ms", "txstep.retry.max-backoff=1s", "txstep.retry.jitter=0",
                "txstep.startup-timeout=30s", "txstep.web.idempotency-key.enabled=true",
                "txstep.web.idempotency-key.header-name=X-Request-Key").run(context -> {
                    assertThat(context).hasNotFailed();
                    TxstepProperties properties = context.getBean(TxstepProperties.class);
                    assertEquals(new RetryPolicy(3, Duration.ofMillis(5), Duration.ofSeconds(1), 0.0),
                            DatasourceConfigs.retryPolicy(properties.retry()));
                    assertEquals(Duration.ofSeconds(30), properties.startupTimeout());
                    assertTrue(properties.web().idempotencyKey().enabled());
                    assertEquals("X-Request-Key", properties.web().idempotencyKey().headerName());
                });
        new ApplicationContextRunner().withConfiguration(AutoConfigurations.of(TxstepAutoConfiguration.class))
                .run(context -> {
                    TxstepProperties defaults = context.getBean(TxstepProperties.class);
                    assertEquals(RetryPolicy.defaults(), DatasourceConfigs.retryPolicy(defaults.retry()),
                            "the metadata's defaults are RetryPolicy.defaults()");
                    assertEquals("dbos", defaults.schema());
                    assertTrue(defaults.migrate());
                });
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "txstep.schema=pg_reserved | txstep.schema",
            "txstep.schema=two words | txstep.schema",
            "txstep.retry.max-attempts=0 | txstep.retry.max-attempts",
            "txstep.retry.initial-backoff=-5ms | txstep.retry.initial-backoff",
            "txstep.retry.max-backoff=5ms | txstep.retry.max-backoff",
            "txstep.retry.jitter=1.5 | txstep.retry.jitter",
            "txstep.jdbc-url=postgresql://127.0.0.1/postgres | txstep.jdbc-url",
            "txstep.startup-timeout=0s | txstep.startup-timeout"})
    void aValueTxstepRefusesFailsStartUpNamingTheProperty(String setting, String property) {
        String schema = schema();
        runner.withPropertyValues("spring.r2dbc.url=" + URL, "txstep.schema=" + schema, setting).run(context -> {
            InvalidConfigurationPropertyValueException failure = refusal(context);
            assertEquals(property, failure.getName(), failure.getMessage());
            assertTrue(failure.getMessage().contains(property), failure.getMessage());
            assertEquals(0, tables(schema, "datasource_outputs"));
        });
    }

    @Test
    void aValueThatDoesNotBindFailsStartUpNamingTheProperty() {
        runner.withPropertyValues("spring.r2dbc.url=" + URL, "txstep.retry.initial-backoff=soon").run(context -> {
            assertThat(context).hasFailed();
            assertThat(context.getStartupFailure()).hasStackTraceContaining("txstep.retry.initial-backoff");
        });
    }

    @Test
    void anOwnConnectionFactoryNeedsAJdbcUrlForTheMigration() {
        String schema = schema();
        ApplicationContextRunner own = runner.withUserConfiguration(OwnConnectionFactory.class)
                .withPropertyValues("txstep.schema=" + schema);
        own.run(context -> assertEquals("txstep.jdbc-url", refusal(context).getName()));
        own.withPropertyValues("txstep.jdbc-url=" + TestDatabases.postgresJdbcUrl(), "txstep.jdbc-username=postgres")
                .run(context -> {
                    assertThat(context).hasNotFailed().hasSingleBean(AsyncDatasource.class);
                    assertEquals(1, tables(schema, "datasource_outputs"));
                });
    }

    @Test
    void healthIsUpWhenTheTableIsThereAndDownWhenItIsNot() {
        String schema = schema();
        runner.withPropertyValues("spring.r2dbc.url=" + URL, "txstep.schema=" + schema).run(context -> {
            ReactiveHealthIndicator health = context.getBean("txstepHealthIndicator", ReactiveHealthIndicator.class);
            assertEquals(Status.UP, health.health().block(Duration.ofSeconds(30)).getStatus());
        });
        // Not migrated, so the table is missing: down, with the database's error.
        runner.withPropertyValues("spring.r2dbc.url=" + URL, "txstep.schema=" + schema(), "txstep.migrate=false")
                .run(context -> {
                    ReactiveHealthIndicator health = context.getBean("txstepHealthIndicator",
                            ReactiveHealthIndicator.class);
                    assertEquals(Status.DOWN, health.health().block(Duration.ofSeconds(30)).getStatus());
                });
        runner.withPropertyValues("spring.r2dbc.url=" + URL, "txstep.schema=" + schema(),
                "management.health.txstep.enabled=false")
                .run(context -> assertThat(context).doesNotHaveBean("txstepHealthIndicator"));
    }

    @Test
    void stepsAreCountedInTheApplicationsMeterRegistry() {
        runner.withPropertyValues("spring.r2dbc.url=" + URL, "txstep.schema=" + schema())
                .withBean(MeterRegistry.class, SimpleMeterRegistry::new)
                .run(context -> {
                    assertThat(context).hasSingleBean(MicrometerStepObserver.class);
                    AsyncDatasource datasource = context.getBean(AsyncDatasource.class);
                    datasource.runTxStepAsync(session -> session.execute("SELECT 1")).block();
                    MeterRegistry registry = context.getBean(MeterRegistry.class);
                    assertEquals(1.0, registry.get("txstep.steps").tag("outcome", "executed").counter().count());
                });
        runner.withPropertyValues("spring.r2dbc.url=" + URL, "txstep.schema=" + schema())
                .run(context -> assertThat(context).doesNotHaveBean(MicrometerStepObserver.class));
    }

    @Test
    void withAnObservationRegistryStepsAreObservationsAndStillCounted() {
        runner.withPropertyValues("spring.r2dbc.url=" + URL, "txstep.schema=" + schema())
                .withBean(MeterRegistry.class, SimpleMeterRegistry::new)
                .withBean(ObservationRegistry.class, TestObservationRegistry::create)
                .run(context -> {
                    assertThat(context).hasSingleBean(MicrometerStepObserver.class)
                            .hasSingleBean(ObservationStepObserver.class);
                    context.getBean(AsyncDatasource.class)
                            .runTxStepAsync(DatasourceOptions.named("observed"), session -> session.execute("SELECT 1"))
                            .block();
                    assertEquals(1.0, context.getBean(MeterRegistry.class).get("txstep.steps")
                            .tag("outcome", "executed").counter().count(), "the meters still count");
                    TestObservationRegistryAssert.assertThat((TestObservationRegistry) context.getBean(ObservationRegistry.class))
                            .hasSingleObservationThat().hasNameEqualTo("txstep.step").hasBeenStopped()
                            .hasLowCardinalityKeyValue("txstep.step.name", "observed");
                });
        runner.withPropertyValues("spring.r2dbc.url=" + URL, "txstep.schema=" + schema())
                .withBean(ObservationRegistry.class, TestObservationRegistry::create)
                .withBean(StepObserver.class, () -> StepObserver.NONE)
                .run(context -> assertThat(context).doesNotHaveBean(ObservationStepObserver.class));
    }

    @Test
    void closingTheContextLetsARunningStepFinishThenRefusesNewOnes() throws Exception {
        String schema = schema();
        TestDatabases.exec(URL, "CREATE SCHEMA \"" + schema + "\"");
        TestDatabases.exec(URL, "CREATE TABLE \"" + schema + "\".effects (id INT)");
        CountDownLatch started = new CountDownLatch(1);
        CompletableFuture<Long> running = new CompletableFuture<>();
        AsyncDatasource[] closed = new AsyncDatasource[1];
        runner.withPropertyValues("spring.r2dbc.url=" + URL, "txstep.schema=" + schema).run(context -> {
            AsyncDatasource datasource = context.getBean(AsyncDatasource.class);
            closed[0] = datasource;
            datasource.runTxStepAsync(session -> Mono.fromRunnable(started::countDown)
                            .then(session.execute("SELECT pg_sleep(0.5)"))
                            .then(session.execute("INSERT INTO \"" + schema + "\".effects VALUES (1)")))
                    .subscribe(running::complete, running::completeExceptionally);
            assertTrue(started.await(30, TimeUnit.SECONDS));
            // The runner closes the context when this returns, while the step sleeps.
        });
        assertTrue(running.isDone(), "the context's close waited for the running step");
        assertEquals(1L, running.get());
        assertEquals(1, TestDatabases.queryLong(URL, "SELECT COUNT(*) FROM \"" + schema + "\".effects"));
        assertThrows(DatasourceClosedException.class,
                () -> closed[0].runTxStepAsync(session -> session.execute("SELECT 1")).block());
    }

    private String schema() {
        String schema = TestDatabases.uniqueSchema("starter");
        schemas.add(schema);
        return schema;
    }

    private static long tables(String schema, String table) {
        return TestDatabases.queryLong(URL, "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = '"
                + schema + "' AND table_name = '" + table + "'");
    }

    private static InvalidConfigurationPropertyValueException refusal(AssertableApplicationContext context) {
        assertThat(context).hasFailed();
        for (Throwable t = context.getStartupFailure(); t != null; t = t.getCause()) {
            if (t instanceof InvalidConfigurationPropertyValueException refused) {
                return refused;
            }
        }
        throw new AssertionError("no property named in", context.getStartupFailure());
    }

    /** An application that builds its own datasource, over a pool of its own. */
    @Configuration(proxyBeanMethods = false)
    static class OwnDatasource {

        final AsyncDatasource datasource;

        OwnDatasource() {
            String schema = TestDatabases.uniqueSchema("starter_own");
            // Nothing is created in the database (migrate(false)): only the bean's identity matters here.
            datasource = AsyncDatasource.create(DatasourceConfig.builder().url(URL).schema(schema)
                    .migrate(false).build()).block();
        }

        @Bean(destroyMethod = "close")
        AsyncDatasource ownDatasource() {
            return datasource;
        }
    }

    /** An application whose connection factory is not built from spring.r2dbc.url. */
    @Configuration(proxyBeanMethods = false)
    static class OwnConnectionFactory {

        @Bean
        ConnectionFactory ownConnectionFactory() {
            return ConnectionFactories.get(URL);
        }
    }
}
