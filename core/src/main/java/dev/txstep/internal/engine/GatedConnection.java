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
import reactor.core.publisher.Flux;
import reactor.core.publisher.Operators;

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
 */
final class GatedConnection implements Connection, Wrapped<Connection> {

    private final Connection connection;
    private final Object lock = new Object();
    private boolean shut;

    GatedConnection(Connection connection) {
        this.connection = connection;
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
                request.get().subscribe(subscriber);
            }
        });
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
                return send(batch::execute);
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
            return send(statement::execute);
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
