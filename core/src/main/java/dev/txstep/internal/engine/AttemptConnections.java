package dev.txstep.internal.engine;

import dev.txstep.internal.dialect.Dialect;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import java.util.function.Function;
import org.reactivestreams.Publisher;
import reactor.core.CoreSubscriber;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Operators;

/**
 * The connection of one attempt of a step, behind its gate (see {@link GatedConnection}), and
 * how it is given back: released after the attempt's work completes (the work committed); on an
 * error or a cancel, gate shut, rolled back, then released. Every path gives it back.
 */
final class AttemptConnections {

    private final ConnectionFactory connections;
    private final Dialect dialect;
    private final DriverContext driverContext;

    AttemptConnections(ConnectionFactory connections, Dialect dialect, DriverContext driverContext) {
        this.connections = connections;
        this.dialect = dialect;
        this.driverContext = driverContext;
    }

    /**
     * @param work the attempt's transaction on the connection, ending with its commit
     * @return on subscribe, acquires a pooled connection and runs the work on it
     */
    <T> Mono<T> use(Function<GatedConnection, Mono<T>> work) {
        return Mono.usingWhen(forPool(connections.create()).map(conn -> new GatedConnection(conn, driverContext)),
                work, this::release, (conn, error) -> endEarly(conn), this::endEarly);
    }

    private Mono<Void> release(GatedConnection conn) {
        return forPool(dialect.release(conn.delegate()));
    }

    /** The pool's work on the connection, subscribed with the {@link DriverContext}. */
    private <T> Mono<T> forPool(Publisher<T> work) {
        // fromDirect: work is a Mono already, and Mono.from would cancel it after its value.
        return Mono.fromDirect(subscriber -> {
            CoreSubscriber<? super T> actual = Operators.toCoreSubscriber(subscriber);
            work.subscribe(DriverContext.<T>subscriber(actual, driverContext.of(actual.currentContext())));
        });
    }

    /**
     * Ends an attempt that failed or was cancelled: shuts its gate, so that a request the attempt is
     * sending at this moment goes out before the {@code ROLLBACK} and none goes out after it, then
     * rolls back and releases the connection.
     */
    private Mono<Void> endEarly(GatedConnection conn) {
        return Mono.defer(() -> {
            conn.shut();
            return forPool(rollbackAndRelease(conn.delegate()));
        });
    }

    private Mono<Void> rollbackAndRelease(Connection conn) {
        return dialect.rollbackEarlyEnd(conn)
                .onErrorResume(e -> Mono.empty())
                .then(dialect.release(conn));
    }
}
