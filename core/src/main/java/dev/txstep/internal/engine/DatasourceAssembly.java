package dev.txstep.internal.engine;

import dev.txstep.InvalidConfigurationException;
import dev.txstep.internal.R2dbcUrls;
import dev.txstep.internal.dialect.Dialect;
import dev.txstep.internal.dialect.Dialects;
import dev.txstep.internal.store.Migrator;
import dev.txstep.internal.store.OutputStore;
import dev.txstep.spi.JdbcCoordinates;
import io.r2dbc.pool.ConnectionPool;
import io.r2dbc.pool.ConnectionPoolConfiguration;
import io.r2dbc.spi.ConnectionFactories;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.ConnectionFactoryOptions;
import reactor.core.publisher.Mono;

/**
 * A datasource's working parts, assembled from its settings: the connection factory (a pool built
 * over the URL, or the caller's factory), the dialect chosen from it, the migrated output table,
 * the output store and the step engine. Where a datasource's connections come from is decided
 * here and nowhere else.
 *
 * @param connections the connection factory steps take connections from: the pool built here, or
 *                    the caller's factory
 * @param ownedPool   the pool built here, disposed by {@link #close()}; null for a caller's factory
 * @param ownedReplicaPool the read replica's pool built here, disposed by {@link #close()}; null
 *                    without a replica URL
 * @param store       the output store: the statements on {@code datasource_outputs}
 * @param engine      the step engine
 */
public record DatasourceAssembly(ConnectionFactory connections, ConnectionPool ownedPool,
        ConnectionPool ownedReplicaPool, OutputStore store, StepEngine engine) {

    /**
     * Builds the pool (unless the settings bring a connection factory), chooses the dialect,
     * installs the output table unless migrations are off, and builds the store and the engine.
     * Blocking (the migration is JDBC work): call it off the event loop.
     *
     * @param settings validated settings
     * @return the assembled parts
     * @throws InvalidConfigurationException if no driver accepts the URL or the database is not
     *                                       supported; a pool built here is disposed
     * @throws dev.txstep.DatasourceException if the migration fails; a pool built here is disposed
     */
    public static DatasourceAssembly assemble(DatasourceSettings settings) {
        ConnectionPool ownedPool = settings.connectionFactory() == null ? pool(settings, settings.url(), "txstep") : null;
        ConnectionFactory connections = ownedPool != null ? ownedPool : settings.connectionFactory();
        ConnectionPool ownedReplicaPool = null;
        try {
            if (settings.replicaUrl() != null) {
                ownedReplicaPool = pool(settings, settings.replicaUrl(), "txstep-replica");
            }
            ConnectionFactory readOnly = ownedReplicaPool != null ? ownedReplicaPool
                    : settings.replicaConnectionFactory() != null ? settings.replicaConnectionFactory() : connections;
            Dialect dialect = Dialects.of(connections);
            if (settings.migrate()) {
                migrate(settings, dialect);
            }
            OutputStore store = new OutputStore(connections, dialect, settings.schema());
            StepEngine engine = new StepEngine(connections, readOnly, dialect, store, settings.serializer(),
                    settings.retryPolicy(), settings.observer(), settings.contextContributors());
            return new DatasourceAssembly(connections, ownedPool, ownedReplicaPool, store, engine);
        } catch (RuntimeException e) {
            if (ownedPool != null) {
                ownedPool.dispose();
            }
            if (ownedReplicaPool != null) {
                ownedReplicaPool.dispose();
            }
            throw e;
        }
    }

    /** The pool a URL names: r2dbc-pool over the driver, or the pool an {@code r2dbc:pool:} URL configures. */
    private static ConnectionPool pool(DatasourceSettings settings, String url, String name) {
        ConnectionFactoryOptions options = R2dbcUrls.parse(url);
        ConnectionFactory driverFactory;
        try {
            driverFactory = ConnectionFactories.find(options);
        } catch (RuntimeException e) {
            throw new InvalidConfigurationException("cannot use R2DBC URL '" + R2dbcUrls.redact(url) + "': "
                    + e.getMessage(), e);
        }
        if (driverFactory == null) {
            throw new InvalidConfigurationException("no R2DBC driver on the class path accepts '"
                    + R2dbcUrls.redact(url) + "' (driver '" + options.getValue(ConnectionFactoryOptions.DRIVER)
                    + "'): add the driver's artifact, e.g. org.postgresql:r2dbc-postgresql or io.r2dbc:r2dbc-h2");
        }
        if (driverFactory instanceof ConnectionPool pool) {
            return pool;
        }
        ConnectionPoolConfiguration.Builder pool = ConnectionPoolConfiguration.builder(driverFactory)
                .name(name)
                .initialSize(settings.initialPoolSize())
                .maxSize(settings.maxPoolSize())
                .maxIdleTime(settings.maxIdleTime());
        if (settings.acquireTimeout() != null) {
            pool.maxAcquireTime(settings.acquireTimeout());
        }
        return new ConnectionPool(pool.build());
    }

    private static void migrate(DatasourceSettings settings, Dialect dialect) {
        if (settings.jdbcDataSource() != null) {
            Migrator.migrate(dialect, settings.schema(), settings.jdbcDataSource());
        } else if (settings.jdbcUrl() != null) {
            Migrator.migrate(dialect, settings.schema(), settings.jdbcUrl(), settings.jdbcUser(),
                    settings.jdbcPassword());
        } else {
            JdbcCoordinates jdbc = JdbcCoordinates.derivedFrom(settings.url());
            Migrator.migrate(dialect, settings.schema(), jdbc.url(),
                    settings.jdbcUser() != null ? settings.jdbcUser() : jdbc.user(),
                    settings.jdbcPassword() != null ? settings.jdbcPassword() : jdbc.password());
        }
    }

    /**
     * Refuses new steps, waits for the running ones, then disposes the pools built here (a caller's
     * connection factories are left open).
     *
     * @return on subscribe, closes; completes when running steps have finished and the pool is disposed
     */
    public Mono<Void> close() {
        return Mono.defer(() -> engine.close()
                .then(ownedPool == null ? Mono.empty() : ownedPool.disposeLater())
                .then(ownedReplicaPool == null ? Mono.empty() : ownedReplicaPool.disposeLater()));
    }
}
