package dev.txstep.testing;

import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.ConnectionFactoryMetadata;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Mono;

/**
 * A connection factory that remembers the SQL of every statement created on its connections, so
 * a test can examine what txstep really sends (its plan, say) rather than a copy typed by hand.
 */
public final class RecordingConnections implements ConnectionFactory {

    private final ConnectionFactory delegate;
    private final List<String> statements = new CopyOnWriteArrayList<>();

    private RecordingConnections(ConnectionFactory delegate) {
        this.delegate = delegate;
    }

    /** Wraps {@code delegate}. */
    public static RecordingConnections wrap(ConnectionFactory delegate) {
        return new RecordingConnections(delegate);
    }

    /** The SQL of the statements created so far, in order. */
    public List<String> statements() {
        return List.copyOf(statements);
    }

    @Override
    public Publisher<? extends Connection> create() {
        return Mono.from(delegate.create()).map(connection -> (Connection) Proxy.newProxyInstance(
                Connection.class.getClassLoader(), new Class<?>[] {Connection.class}, (proxy, method, args) -> {
                    if (method.getName().equals("createStatement")) {
                        statements.add((String) args[0]);
                    }
                    try {
                        return method.invoke(connection, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                }));
    }

    @Override
    public ConnectionFactoryMetadata getMetadata() {
        return delegate.getMetadata();
    }
}
