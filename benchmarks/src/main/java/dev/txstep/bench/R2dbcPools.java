package dev.txstep.bench;

import io.r2dbc.pool.ConnectionPool;
import io.r2dbc.pool.ConnectionPoolConfiguration;
import io.r2dbc.spi.ConnectionFactories;
import java.time.Duration;

/**
 * Builds the r2dbc-pool every R2DBC variant runs on — the plain baseline and txstep alike — with
 * the settings {@code AsyncDatasource} gives the pool it builds from a URL, sized by
 * {@link Setting#poolSize()} and filled before the timed window.
 */
final class R2dbcPools {

    private R2dbcPools() {
    }

    /**
     * Opens a pool with all its connections established.
     *
     * @param postgres the database
     * @param size     initial and maximum size
     * @return the pool; dispose it with {@link ConnectionPool#disposeLater()}
     */
    static ConnectionPool open(Postgres postgres, int size) {
        ConnectionPool pool = new ConnectionPool(ConnectionPoolConfiguration
                .builder(ConnectionFactories.get(postgres.r2dbcUrl()))
                .name("bench")
                .initialSize(size)
                .maxSize(size)
                .maxIdleTime(Duration.ofMinutes(30))
                .maxAcquireTime(Duration.ofSeconds(30))
                .build());
        pool.warmup().block(Duration.ofSeconds(60));
        return pool;
    }
}
