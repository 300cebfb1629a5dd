package dev.txstep.spring;

import dev.txstep.AsyncDatasource;
import dev.txstep.BlockingDatasource;
import dev.txstep.DatasourceConfig;
import dev.txstep.observe.StepObserver;
import dev.txstep.spi.StepContextContributor;
import io.r2dbc.spi.ConnectionFactory;
import java.time.Duration;
import java.util.concurrent.TimeoutException;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnSingleCandidate;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.r2dbc.autoconfigure.R2dbcProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Auto-configures an {@link AsyncDatasource} over the application's R2DBC
 * {@link ConnectionFactory} — the pool Spring Boot builds from {@code spring.r2dbc.*}, or the
 * application's own single (or primary) factory — and a {@link BlockingDatasource} over it.
 *
 * <p>Start-up installs or upgrades {@code datasource_outputs} through JDBC (see
 * {@link TxstepProperties#jdbcUrl()}) before the context finishes refreshing, so no request reaches a
 * step before the table exists. The datasource closes with the context: new steps are refused,
 * running steps finish, and only then is Spring's pool closed (the datasource depends on it, so
 * Spring destroys the datasource first). With Spring Boot's graceful shutdown the web server has
 * stopped taking requests by then.
 *
 * <p>Backs off when the application defines its own {@code AsyncDatasource} (its
 * {@code BlockingDatasource} is then built over that one), and when there is no connection factory.
 * Every {@link StepObserver} bean observes the datasource's steps, in their order (combined by
 * {@link StepObserver#composite}); {@link TxstepMetricsAutoConfiguration} defines one for Micrometer
 * meters, {@link TxstepObservationAutoConfiguration} one for Micrometer observations (tracing). Every
 * {@link StepContextContributor} bean is added to the datasource, in their order; with
 * {@code spring-r2dbc} on the class path one is defined, {@link SpringDataAccess#contributor()}, so
 * Spring's R2DBC data access inside a step runs in the step's transaction.
 */
@AutoConfiguration(afterName = "org.springframework.boot.r2dbc.autoconfigure.R2dbcAutoConfiguration")
@ConditionalOnClass({AsyncDatasource.class, ConnectionFactory.class})
@EnableConfigurationProperties(TxstepProperties.class)
public class TxstepAutoConfiguration {

    /** Creates the auto-configuration; Spring calls it. */
    public TxstepAutoConfiguration() {
    }

    /**
     * The datasource, ready: its table migrated. Spring's destroy-method support subscribes to the
     * {@code Mono} that {@link AsyncDatasource#close()} returns and waits for it.
     */
    @Bean(destroyMethod = "close")
    @ConditionalOnMissingBean
    @ConditionalOnSingleCandidate(ConnectionFactory.class)
    AsyncDatasource txstepAsyncDatasource(TxstepProperties properties, ConnectionFactory connectionFactory,
            ObjectProvider<R2dbcProperties> r2dbcProperties, ObjectProvider<StepObserver> observers,
            ObjectProvider<StepContextContributor> contributors) {
        Duration timeout = DatasourceConfigs.startupTimeout(properties);
        DatasourceConfig config = DatasourceConfigs.of(properties, connectionFactory,
                r2dbcProperties.getIfAvailable(), StepObserver.composite(observers.orderedStream().toArray(StepObserver[]::new)),
                contributors.orderedStream().toList());
        // Start-up waits here, on the thread refreshing the context (never an event loop), as
        // Spring Boot's own database initializers do.
        return AsyncDatasource.create(config)
                .timeout(timeout)
                .onErrorMap(TimeoutException.class, e -> new IllegalStateException("txstep's datasource was not"
                        + " ready within txstep.startup-timeout (" + timeout + "): the database or its migration"
                        + " lock did not answer in time", e))
                .block();
    }

    /**
     * The blocking facade over the datasource. Closing is left to the {@code AsyncDatasource} bean
     * (its owner), so this bean has no destroy method: Spring would otherwise infer
     * {@code close()} and close the datasource twice, or close a datasource the application owns.
     */
    @Bean(destroyMethod = "")
    @ConditionalOnMissingBean
    @ConditionalOnBean(AsyncDatasource.class)
    BlockingDatasource txstepBlockingDatasource(AsyncDatasource datasource) {
        return BlockingDatasource.wrap(datasource);
    }

    /** Spring's R2DBC data access joins the steps' transactions, when the application has it. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = "org.springframework.r2dbc.connection.ConnectionFactoryUtils")
    static class SpringDataAccessConfiguration {

        /** The contributor binding each step's connection for Spring (see {@link SpringDataAccess}). */
        @Bean
        StepContextContributor txstepSpringDataAccess() {
            return SpringDataAccess.contributor();
        }
    }
}
