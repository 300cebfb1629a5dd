package dev.txstep.internal.engine;

import dev.txstep.RetryPolicy;
import dev.txstep.observe.StepObserver;
import dev.txstep.serialization.Serializer;
import dev.txstep.spi.StepContextContributor;
import io.r2dbc.spi.ConnectionFactory;
import java.time.Duration;
import java.util.List;
import javax.sql.DataSource;

/**
 * The settings of a datasource, each validated by {@code DatasourceConfig.Builder} and checked
 * together by its {@code build()}: what {@link DatasourceAssembly} assembles a datasource from.
 *
 * @param url               the R2DBC URL to build a pool over, or null when {@code connectionFactory} is given
 * @param connectionFactory the caller's connection factory, used as is, or null
 * @param jdbcUrl           the JDBC URL migrations go through, or null to derive it from {@code url}
 * @param jdbcUser          the JDBC user, or null for the URL's
 * @param jdbcPassword      the JDBC password, or null for the URL's
 * @param jdbcDataSource    a JDBC data source migrations go through instead, or null
 * @param migrate           whether to install or upgrade the output table
 * @param schema            the output table's schema, a validated identifier
 * @param serializer        turns outputs into text and back
 * @param retryPolicy       how transient failures are retried
 * @param initialPoolSize   connections a built pool opens at start
 * @param maxPoolSize       the most connections a built pool holds
 * @param acquireTimeout    how long a step waits for a pooled connection, or null for no limit
 * @param maxIdleTime       how long an idle pooled connection is kept
 * @param observer          hears how steps end and when they are retried
 * @param replicaUrl        the R2DBC URL of a read replica for read-only steps, or null
 * @param replicaConnectionFactory a read replica's connection factory, used as is, or null
 * @param contextContributors add to the Reactor context of every step's function, in this order
 */
public record DatasourceSettings(String url, ConnectionFactory connectionFactory, String jdbcUrl, String jdbcUser,
        String jdbcPassword, DataSource jdbcDataSource, boolean migrate, String schema, Serializer serializer,
        RetryPolicy retryPolicy, int initialPoolSize, int maxPoolSize, Duration acquireTimeout, Duration maxIdleTime,
        StepObserver observer, String replicaUrl, ConnectionFactory replicaConnectionFactory,
        List<StepContextContributor> contextContributors) {
}
