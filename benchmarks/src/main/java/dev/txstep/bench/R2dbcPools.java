package dev.txstep.bench;

import io.r2dbc.pool.ConnectionPool;
import io.r2dbc.pool.ConnectionPoolConfiguration;
import io.r2dbc.spi.ConnectionFactories;
import java.time.Duration;

/**
 * Builds the r2dbc-pool every R2DBC variant runs on — the plain baseline and txstep alike — with
 * the settings {@code AsyncDatasource} gives the pool it builds from a URL, sized by
 * {@link Setting#poolSize()} and filled before the timed window. Its connections carry the
 * {@code application_name} {@value ResourceMeter#APPLICATION_NAME}, so {@link ResourceMeter} can
 * tell the benchmark's backends from the server's other processes.
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
                .builder(ConnectionFactories.get(postgres.r2dbcUrl() + "?applicationName=" + ResourceMeter.APPLICATION_NAME))
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
