package dev.txstep.bench;

import dev.txstep.AsyncDatasource;
import dev.txstep.DatasourceConfig;
import io.r2dbc.pool.ConnectionPool;
import java.time.Duration;

/**
 * Creates txstep datasources for the benchmark: the output table is installed once per run, and
 * each measurement's datasource runs on the measurement's own pool ({@link R2dbcPools}), so txstep
 * and the baseline get the same pool with the same connections.
 */
final class TxStepDatasources {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    private TxStepDatasources() {
    }

    /**
     * Installs {@code datasource_outputs} in {@link BenchDatabase#TXSTEP_SCHEMA} (txstep's Flyway
     * migration), outside any measurement.
     *
     * @param postgres the database
     */
    static void install(Postgres postgres) {
        install(postgres, BenchDatabase.TXSTEP_SCHEMA);
    }

    /**
     * Installs {@code datasource_outputs} in a schema by creating and closing a datasource on it
     * (txstep's Flyway migration): the table, its key and its indexes are txstep's own.
     *
     * @param postgres the database
     * @param schema   the schema, e.g. {@link BenchDatabase#LIMIT_SCHEMA}
     */
    static void install(Postgres postgres, String schema) {
        AsyncDatasource.create(DatasourceConfig.builder()
                        .url(postgres.r2dbcUrl())
                        .schema(schema)
                        .initialPoolSize(0).maxPoolSize(1)
                        .build())
                .flatMap(AsyncDatasource::close)
                .block(TIMEOUT);
    }

    /**
     * A datasource on a pool the caller owns (closing the datasource leaves the pool open).
     *
     * @param pool the measurement's pool
     * @return the datasource, with default serializer and retry policy
     */
    static AsyncDatasource open(ConnectionPool pool) {
        return open(pool, BenchDatabase.TXSTEP_SCHEMA);
    }

    /**
     * A datasource on a pool the caller owns, recording in {@code schema} (installed).
     *
     * @param pool   the measurement's pool
     * @param schema where its output table is
     * @return the datasource, with default serializer and retry policy
     */
    static AsyncDatasource open(ConnectionPool pool, String schema) {
        return AsyncDatasource.create(DatasourceConfig.builder()
                        .connectionFactory(pool)
                        .migrate(false)
                        .schema(schema)
                        .build())
                .block(TIMEOUT);
    }

    /**
     * Closes a datasource, then its pool.
     *
     * @param datasource the datasource
     * @param pool       its pool
     */
    static void close(AsyncDatasource datasource, ConnectionPool pool) {
        try {
            datasource.close().block(TIMEOUT);
        } finally {
            pool.disposeLater().block(TIMEOUT);
        }
    }
}
