package dev.txstep.bench;

import io.r2dbc.pool.ConnectionPool;
import io.r2dbc.pool.ConnectionPoolConfiguration;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactories;
import java.time.Duration;
import java.util.function.Function;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

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

    /**
     * Opens a pool as {@link #open(Postgres, int)}, then runs {@code prepare} once on each of its
     * connections, all borrowed at once so that each is a different one. (r2dbc-pool's
     * {@code postAllocate} is no place for it: it ran again on connections already prepared.)
     *
     * @param postgres the database
     * @param size     initial and maximum size
     * @param prepare  what each connection runs once before the pool lends it
     * @return the pool; dispose it with {@link ConnectionPool#disposeLater()}
     */
    static ConnectionPool open(Postgres postgres, int size, Function<Connection, Publisher<Void>> prepare) {
        ConnectionPool pool = open(postgres, size);
        Flux.range(0, size)
                .flatMap(i -> pool.create(), size)
                .collectList()
                .flatMapMany(connections -> Flux.fromIterable(connections)
                        .concatMap(connection -> Mono.from(prepare.apply(connection)))
                        .thenMany(Flux.fromIterable(connections).concatMap(Connection::close)))
                .blockLast(Duration.ofSeconds(60));
        return pool;
    }
}
