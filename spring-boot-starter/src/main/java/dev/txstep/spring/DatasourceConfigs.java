package dev.txstep.spring;

import dev.txstep.AsyncDatasource;
import dev.txstep.DatasourceConfig;
import dev.txstep.InvalidConfigurationException;
import dev.txstep.RetryPolicy;
import dev.txstep.observe.StepObserver;
import dev.txstep.spi.JdbcCoordinates;
import dev.txstep.spi.StepContextContributor;
import io.r2dbc.spi.ConnectionFactory;
import java.time.Duration;
import java.util.List;
import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException;
import org.springframework.boot.r2dbc.autoconfigure.R2dbcProperties;

/**
 * Turns {@link TxstepProperties} into an {@link DatasourceConfig} over the application's
 * connection factory. Every value goes through the txstep builder method that validates it (see
 * {@link PropertyErrors}), so a value txstep refuses fails start-up with an
 * {@link InvalidConfigurationPropertyValueException} naming the property it came from.
 */
final class DatasourceConfigs {

    private DatasourceConfigs() {
    }

    /**
     * The configuration of the auto-configured datasource.
     *
     * @param properties the {@code txstep.*} settings
     * @param factory    the application's connection factory, used as it is (txstep neither sizes
     *                   nor closes it)
     * @param r2dbc      the {@code spring.r2dbc.*} settings, or null when R2DBC is not Spring Boot's
     * @param observer   who hears how steps end
     * @param contributors add to the context of each step's function, in this order
     * @throws InvalidConfigurationPropertyValueException naming the property txstep refuses
     */
    static DatasourceConfig of(TxstepProperties properties, ConnectionFactory factory, R2dbcProperties r2dbc,
            StepObserver observer, List<StepContextContributor> contributors) {
        DatasourceConfig.Builder builder = DatasourceConfig.builder()
                .connectionFactory(factory)
                .observer(observer)
                .migrate(properties.migrate());
        contributors.forEach(builder::addContextContributor);
        PropertyErrors.set("txstep.schema", properties.schema(), builder::schema);
        if (properties.replicaUrl() != null) {
            PropertyErrors.set("txstep.replica-url", properties.replicaUrl(), builder::replicaUrl);
        }
        builder.retryPolicy(retryPolicy(properties.retry()));
        if (properties.migrate()) {
            migrationSource(properties, r2dbc, builder);
        }
        return builder.build();
    }

    /**
     * How long start-up waits for the datasource.
     *
     * @throws InvalidConfigurationPropertyValueException if {@code txstep.startup-timeout} is not positive
     */
    static Duration startupTimeout(TxstepProperties properties) {
        Duration timeout = properties.startupTimeout();
        if (timeout == null || timeout.isNegative() || timeout.isZero()) {
            throw PropertyErrors.refused("txstep.startup-timeout", timeout,
                    "must be a positive duration, e.g. 60s");
        }
        return timeout;
    }

    /**
     * The retry policy the {@code txstep.retry.*} settings describe.
     *
     * @throws InvalidConfigurationPropertyValueException naming the setting out of range
     */
    static RetryPolicy retryPolicy(TxstepProperties.Retry retry) {
        RetryPolicy.Builder builder = RetryPolicy.builder();
        PropertyErrors.set("txstep.retry.max-attempts", retry.maxAttempts(), builder::maxAttempts);
        PropertyErrors.set("txstep.retry.initial-backoff", retry.initialBackoff(), builder::initialBackoff);
        PropertyErrors.set("txstep.retry.max-backoff", retry.maxBackoff(), builder::maxBackoff);
        PropertyErrors.set("txstep.retry.jitter", retry.jitter(), builder::jitter);
        try {
            return builder.build();
        } catch (InvalidConfigurationException e) {
            // The only check across settings: the longest wait below the first.
            throw PropertyErrors.refused("txstep.retry.max-backoff", retry.maxBackoff(),
                    e.getMessage());
        }
    }

    /**
     * Where Flyway connects: {@code txstep.jdbc-url}, else the JDBC form of {@code spring.r2dbc.url};
     * credentials from {@code txstep.jdbc-*}, else {@code spring.r2dbc.username/password}, else the
     * R2DBC URL's own, the order in which Spring Boot itself lets the separate properties win.
     */
    private static void migrationSource(TxstepProperties properties, R2dbcProperties r2dbc,
            DatasourceConfig.Builder builder) {
        String url = properties.jdbcUrl();
        String user = firstNonNull(properties.jdbcUsername(), r2dbc == null ? null : r2dbc.getUsername());
        String password = firstNonNull(properties.jdbcPassword(), r2dbc == null ? null : r2dbc.getPassword());
        if (url == null) {
            String r2dbcUrl = r2dbc == null ? null : r2dbc.getUrl();
            if (r2dbcUrl == null || r2dbcUrl.isBlank()) {
                throw PropertyErrors.refused("txstep.jdbc-url", null,
                        "the migration of txstep's output table needs a JDBC URL, and none can be derived because"
                                + " spring.r2dbc.url is not set. Set txstep.jdbc-url, or set txstep.migrate=false"
                                + " if the table is installed by other means");
            }
            JdbcCoordinates derived;
            try {
                derived = JdbcCoordinates.derivedFrom(r2dbcUrl);
            } catch (InvalidConfigurationException e) {
                throw PropertyErrors.refused("txstep.jdbc-url", null,
                        "no JDBC URL for the migration can be derived from spring.r2dbc.url (" + e.getMessage()
                                + "). Set txstep.jdbc-url, or set txstep.migrate=false if the table is installed"
                                + " by other means");
            }
            url = derived.url();
            user = firstNonNull(user, derived.user());
            password = firstNonNull(password, derived.password());
        }
        PropertyErrors.set("txstep.jdbc-url", url, builder::jdbcUrl);
        builder.jdbcCredentials(user, password);
    }

    private static String firstNonNull(String first, String second) {
        return first != null ? first : second;
    }
}
