package dev.txstep.internal.engine;

import io.r2dbc.spi.Batch;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionMetadata;
import io.r2dbc.spi.IsolationLevel;
import io.r2dbc.spi.Result;
import io.r2dbc.spi.Statement;
import io.r2dbc.spi.TransactionDefinition;
import io.r2dbc.spi.ValidationDepth;
import io.r2dbc.spi.Wrapped;
import java.time.Duration;
import java.util.concurrent.CancellationException;
import java.util.function.Supplier;
import org.reactivestreams.Publisher;
import reactor.core.CoreSubscriber;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Operators;
import reactor.util.context.Context;

/**
 * The connection of one attempt of a step, as the attempt and its function see it: every request
 * it sends — a statement, a batch, a transaction command — is sent by subscribing under a lock, and
 * once the attempt ends early ({@link #shut()}: cancelled, or failed) nothing more is sent.
 *
 * <p>Why: a step that is cancelled rolls back from the cancelling thread while the step's own
 * thread may be subscribing its next request at that very moment (the function's next statement,
 * or the output row with {@code COMMIT}). Drivers send a request when it is subscribed, even if the
 * subscriber cancels as it subscribes (r2dbc-postgresql, r2dbc-h2), so without the lock that
 * request could reach the server after the {@code ROLLBACK}: in auto-commit, committing an effect
 * without its output row or an output row without the effects, or inside the transaction of the
 * connection's next borrower. With it, every request the attempt sends is either on the wire
 * before the rollback or refused.
 *
 * <p>Every request, and every read of its results, also reaches the driver with the
 * {@link DriverContext} of its subscriber's context.
 */
final class GatedConnection implements Connection, Wrapped<Connection> {

    private final Connection connection;
    private final DriverContext driverContext;
    private final Object lock = new Object();
    private boolean shut;
    /**
     * The last context a request or result was subscribed with, and what the driver saw of it: the
     * statements of one function share their context. Racy on purpose: a miss only computes again.
     */
    private SeenContext seen;

    GatedConnection(Connection connection, DriverContext driverContext) {
        this.connection = connection;
        this.driverContext = driverContext;
    }

    /** The pooled connection underneath, to roll back and release. */
    Connection delegate() {
        return connection;
    }

    /** Refuses every request from now on; returns once no request is being sent. */
    void shut() {
        synchronized (lock) {
            shut = true;
        }
    }

    /** A request subscribed under the lock, unless the attempt has ended. */
    private <T> Flux<T> send(Supplier<? extends Publisher<T>> request) {
        return Flux.from(subscriber -> {
            synchronized (lock) {
                if (shut) {
                    Operators.error(subscriber, new CancellationException("the step's attempt has ended;"
                            + " nothing more is sent on its connection"));
                    return;
                }
                request.get().subscribe(forDriver(Operators.toCoreSubscriber(subscriber)));
            }
        });
    }

    /** A request whose results, read later by the attempt, reach the driver with its context too. */
    private Flux<Result> sendForResults(Supplier<? extends Publisher<? extends Result>> request) {
        return this.<Result>send(() -> Flux.from(request.get())).map(result -> new DriverResult(result, this));
    }

    /** A publisher of the driver's, subscribed with the {@link DriverContext} of its subscriber. */
    <T> Flux<T> toDriver(Publisher<T> publisher) {
        return Flux.from(subscriber -> publisher.subscribe(forDriver(Operators.toCoreSubscriber(subscriber))));
    }

    private <T> CoreSubscriber<? super T> forDriver(CoreSubscriber<? super T> subscriber) {
        Context context = subscriber.currentContext();
        SeenContext last = seen;
        if (last == null || last.context() != context) {
            last = new SeenContext(context, driverContext.of(context));
            seen = last;
        }
        return DriverContext.subscriber(subscriber, last.driverContext());
    }

    private record SeenContext(Context context, Context driverContext) {
    }

    @Override
    public Publisher<Void> beginTransaction() {
        return send(connection::beginTransaction);
    }

    @Override
    public Publisher<Void> beginTransaction(TransactionDefinition definition) {
        return send(() -> connection.beginTransaction(definition));
    }

    @Override
    public Publisher<Void> commitTransaction() {
        return send(connection::commitTransaction);
    }

    @Override
    public Publisher<Void> rollbackTransaction() {
        return send(connection::rollbackTransaction);
    }

    @Override
    public Batch createBatch() {
        Batch batch = connection.createBatch();
        return new Batch() {
            @Override
            public Batch add(String sql) {
                batch.add(sql);
                return this;
            }

            @Override
            public Publisher<? extends Result> execute() {
                return sendForResults(batch::execute);
            }
        };
    }

    @Override
    public Statement createStatement(String sql) {
        return new GatedStatement(connection.createStatement(sql));
    }

    private final class GatedStatement implements Statement {
        private final Statement statement;

        GatedStatement(Statement statement) {
            this.statement = statement;
        }

        @Override
        public Statement add() {
            statement.add();
            return this;
        }

        @Override
        public Statement bind(int index, Object value) {
            statement.bind(index, value);
            return this;
        }

        @Override
        public Statement bind(String name, Object value) {
            statement.bind(name, value);
            return this;
        }

        @Override
        public Statement bindNull(int index, Class<?> type) {
            statement.bindNull(index, type);
            return this;
        }

        @Override
        public Statement bindNull(String name, Class<?> type) {
            statement.bindNull(name, type);
            return this;
        }

        @Override
        public Statement returnGeneratedValues(String... columns) {
            statement.returnGeneratedValues(columns);
            return this;
        }

        @Override
        public Statement fetchSize(int rows) {
            statement.fetchSize(rows);
            return this;
        }

        @Override
        public Publisher<? extends Result> execute() {
            return sendForResults(statement::execute);
        }
    }

    @Override
    public Publisher<Void> createSavepoint(String name) {
        return send(() -> connection.createSavepoint(name));
    }

    @Override
    public Publisher<Void> releaseSavepoint(String name) {
        return send(() -> connection.releaseSavepoint(name));
    }

    @Override
    public Publisher<Void> rollbackTransactionToSavepoint(String name) {
        return send(() -> connection.rollbackTransactionToSavepoint(name));
    }

    @Override
    public Publisher<Void> setAutoCommit(boolean autoCommit) {
        return send(() -> connection.setAutoCommit(autoCommit));
    }

    @Override
    public Publisher<Void> setLockWaitTimeout(Duration timeout) {
        return send(() -> connection.setLockWaitTimeout(timeout));
    }

    @Override
    public Publisher<Void> setStatementTimeout(Duration timeout) {
        return send(() -> connection.setStatementTimeout(timeout));
    }

    @Override
    public Publisher<Void> setTransactionIsolationLevel(IsolationLevel level) {
        return send(() -> connection.setTransactionIsolationLevel(level));
    }

    @Override
    public Publisher<Void> close() {
        return connection.close();
    }

    @Override
    public boolean isAutoCommit() {
        return connection.isAutoCommit();
    }

    @Override
    public ConnectionMetadata getMetadata() {
        return connection.getMetadata();
    }

    @Override
    public IsolationLevel getTransactionIsolationLevel() {
        return connection.getTransactionIsolationLevel();
    }

    @Override
    public Publisher<Boolean> validate(ValidationDepth depth) {
        return connection.validate(depth);
    }

    @Override
    public Connection unwrap() {
        return connection;
    }
}
