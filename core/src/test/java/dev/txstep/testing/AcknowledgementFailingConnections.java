package dev.txstep.testing;

import io.r2dbc.spi.Batch;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.ConnectionFactoryMetadata;
import io.r2dbc.spi.Result;
import io.r2dbc.spi.Statement;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * A connection factory whose next commits <em>land</em> and are then reported as failed: the
 * commit (a {@code commitTransaction()} call, or a batch or a statement text whose last statement
 * is {@code COMMIT})
 * runs to its end on the database, and the caller receives the given error instead of its
 * completion — what a driver that fails while reading the acknowledgement does. Commits beyond
 * the armed count pass through untouched.
 */
public final class AcknowledgementFailingConnections implements ConnectionFactory {

    private final ConnectionFactory delegate;
    private final Supplier<? extends Throwable> error;
    private final AtomicInteger armed = new AtomicInteger();
    private final AtomicInteger failed = new AtomicInteger();

    private AcknowledgementFailingConnections(ConnectionFactory delegate, Supplier<? extends Throwable> error) {
        this.delegate = delegate;
        this.error = error;
    }

    /** Wraps {@code delegate}; commits fail with {@code error} once {@link #failNextCommits} armed them. */
    public static AcknowledgementFailingConnections wrap(ConnectionFactory delegate, Supplier<? extends Throwable> error) {
        return new AcknowledgementFailingConnections(delegate, error);
    }

    /** The next {@code count} commits land and then fail. */
    public void failNextCommits(int count) {
        armed.set(count);
    }

    /** How many commits landed and were reported as failed. */
    public int failedCommits() {
        return failed.get();
    }

    @Override
    public Publisher<? extends Connection> create() {
        return Mono.from(delegate.create()).map(this::proxy);
    }

    @Override
    public ConnectionFactoryMetadata getMetadata() {
        return delegate.getMetadata();
    }

    private Connection proxy(Connection connection) {
        return (Connection) Proxy.newProxyInstance(Connection.class.getClassLoader(), new Class<?>[] {Connection.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("commitTransaction") && takeArmed()) {
                        return landThenFail(Mono.from(connection.commitTransaction()).then());
                    }
                    if (method.getName().equals("createBatch")) {
                        return batch(connection.createBatch());
                    }
                    if (method.getName().equals("createStatement") && endsWithCommit((String) args[0])) {
                        return committing(connection.createStatement((String) args[0]));
                    }
                    return invoke(connection, method, args);
                });
    }

    private Batch batch(Batch batch) {
        boolean[] commits = {false};
        return (Batch) Proxy.newProxyInstance(Batch.class.getClassLoader(), new Class<?>[] {Batch.class},
                new InvocationHandler() {
                    @Override
                    public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
                        if (method.getName().equals("add")) {
                            // Whether the batch ends with a commit (a read that commits and goes on
                            // to begin a transaction is not a step's commit).
                            commits[0] = ((String) args[0]).strip().toUpperCase(Locale.ROOT).equals("COMMIT");
                            batch.add((String) args[0]);
                            return proxy;
                        }
                        if (method.getName().equals("execute")) {
                            Flux<Result> results = Flux.from(batch.execute());
                            if (!commits[0] || !takeArmed()) {
                                return results;
                            }
                            // Consume every result, so the whole batch (COMMIT included) has run.
                            return landThenFail(results.concatMap(Result::getRowsUpdated).then()).cast(Result.class);
                        }
                        return AcknowledgementFailingConnections.invoke(batch, method, args);
                    }
                });
    }

    /** Whether a text of several statements ends with COMMIT, as txstep joins them on PostgreSQL. */
    private static boolean endsWithCommit(String sql) {
        return sql.stripTrailing().toUpperCase(Locale.ROOT).endsWith("; COMMIT");
    }

    private Statement committing(Statement statement) {
        return (Statement) Proxy.newProxyInstance(Statement.class.getClassLoader(), new Class<?>[] {Statement.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("execute")) {
                        Flux<Result> results = Flux.from(statement.execute());
                        if (!takeArmed()) {
                            return results;
                        }
                        // Consume every result, so the whole text (COMMIT included) has run.
                        return landThenFail(results.concatMap(Result::getRowsUpdated).then()).cast(Result.class);
                    }
                    Object result = AcknowledgementFailingConnections.invoke(statement, method, args);
                    return result == statement ? proxy : result;
                });
    }

    /** Whether the commit being made now is one of the armed ones (it then counts as used). */
    private boolean takeArmed() {
        return armed.getAndUpdate(n -> Math.max(0, n - 1)) > 0;
    }

    private Flux<Void> landThenFail(Mono<Void> commit) {
        return commit.thenMany(Flux.defer(() -> {
            failed.incrementAndGet();
            return Flux.error(error.get());
        }));
    }

    private static Object invoke(Object target, Method method, Object[] args) throws Throwable {
        try {
            return method.invoke(target, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }
}
