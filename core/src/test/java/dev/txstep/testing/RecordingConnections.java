package dev.txstep.testing;

import io.r2dbc.spi.Batch;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.ConnectionFactoryMetadata;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Mono;

/**
 * A connection factory that remembers the SQL of every statement created on its connections, and
 * every message sent on them: each statement's text, and each batch executed (its statements
 * joined by {@code "; "}), so a test can examine what txstep really sends (its plan, its messages)
 * rather than a copy typed by hand.
 */
public final class RecordingConnections implements ConnectionFactory {

    private final ConnectionFactory delegate;
    private final List<String> statements = new CopyOnWriteArrayList<>();
    private final List<String> messages = new CopyOnWriteArrayList<>();

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

    /**
     * The texts sent so far, in order: each statement as created (on PostgreSQL one may hold
     * several, joined by semicolons) and each batch as its statements joined by {@code "; "}.
     */
    public List<String> messages() {
        return List.copyOf(messages);
    }

    @Override
    public Publisher<? extends Connection> create() {
        return Mono.from(delegate.create()).map(connection -> (Connection) Proxy.newProxyInstance(
                Connection.class.getClassLoader(), new Class<?>[] {Connection.class}, (proxy, method, args) -> {
                    if (method.getName().equals("createStatement")) {
                        statements.add((String) args[0]);
                        messages.add((String) args[0]);
                    }
                    if (method.getName().equals("createBatch")) {
                        return recorded(connection.createBatch());
                    }
                    return invoke(connection, method, args);
                }));
    }

    private Batch recorded(Batch batch) {
        List<String> added = new ArrayList<>();
        return (Batch) Proxy.newProxyInstance(Batch.class.getClassLoader(), new Class<?>[] {Batch.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("add")) {
                        added.add((String) args[0]);
                        batch.add((String) args[0]);
                        return proxy;
                    }
                    if (method.getName().equals("execute")) {
                        messages.add(String.join("; ", added));
                    }
                    return invoke(batch, method, args);
                });
    }

    private static Object invoke(Object target, Method method, Object[] args) throws Throwable {
        try {
            return method.invoke(target, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

    @Override
    public ConnectionFactoryMetadata getMetadata() {
        return delegate.getMetadata();
    }
}
