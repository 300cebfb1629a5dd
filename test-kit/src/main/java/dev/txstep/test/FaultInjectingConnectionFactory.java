package dev.txstep.test;

import io.r2dbc.spi.Batch;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.ConnectionFactoryMetadata;
import io.r2dbc.spi.ConnectionMetadata;
import io.r2dbc.spi.IsolationLevel;
import io.r2dbc.spi.R2dbcNonTransientResourceException;
import io.r2dbc.spi.Result;
import io.r2dbc.spi.Statement;
import io.r2dbc.spi.TransactionDefinition;
import io.r2dbc.spi.ValidationDepth;
import io.r2dbc.spi.Wrapped;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The user's connection factory, with one fault the kit can arm: the acknowledgement of a step's
 * commit is lost. The commit goes to the database and succeeds there; the caller is told the
 * connection broke (SQLSTATE 08006), as when a network fails between the server's commit and its
 * answer.
 *
 * <p>A step's commit is recognized by what it carries: a transaction that wrote a row of the
 * {@code datasource_outputs} table (the table is txstep's documented record) and commits — with
 * {@code commitTransaction()}, or a batch or one multi-statement text that holds both the row's
 * {@code INSERT} (or the {@code EXECUTE} of txstep's insert, prepared on the connection) and
 * {@code COMMIT} (txstep on PostgreSQL). Read-only steps and other transactions write no such row
 * and are never hit. When armed with {@code n}, the {@code n}-th such commit from then on (counting
 * from 1) loses its acknowledgement, once.
 */
final class FaultInjectingConnectionFactory implements ConnectionFactory, Wrapped<ConnectionFactory> {

    private static final String OUTPUT_TABLE = "datasource_outputs";
    /** How txstep names its prepared output insert: {@code txstep_<version>_<table hash>_insert}. */
    private static final String PREPARED_INSERT_PREFIX = "execute txstep_";
    private static final String PREPARED_INSERT_SUFFIX = "_insert(";

    private final ConnectionFactory delegate;
    /** Output commits still to let through before the one to hit; 0 when disarmed. */
    private final AtomicInteger armedAt = new AtomicInteger();
    private final AtomicInteger dropped = new AtomicInteger();

    FaultInjectingConnectionFactory(ConnectionFactory delegate) {
        this.delegate = delegate;
    }

    /** Loses the acknowledgement of the {@code n}-th step commit from now on (n = 1: the next one). */
    void armLostAcknowledgement(int n) {
        armedAt.set(n);
    }

    /** Disarms, and says how many acknowledgements were lost since the last call. */
    int disarm() {
        armedAt.set(0);
        return dropped.getAndSet(0);
    }

    @Override
    public Publisher<? extends Connection> create() {
        return Mono.from(delegate.create()).map(FaultConnection::new);
    }

    @Override
    public ConnectionFactoryMetadata getMetadata() {
        return delegate.getMetadata();
    }

    @Override
    public ConnectionFactory unwrap() {
        return delegate;
    }

    /** Whether this commit is the one to hit; counts it down otherwise. */
    private boolean hit() {
        while (true) {
            int n = armedAt.get();
            if (n == 0) {
                return false;
            }
            if (armedAt.compareAndSet(n, n - 1)) {
                return n == 1;
            }
        }
    }

    private static boolean writesOutput(String sql) {
        String s = sql.toLowerCase(Locale.ROOT).stripLeading();
        return (s.contains(OUTPUT_TABLE) && s.startsWith("insert"))
                // txstep on PostgreSQL executes its insert prepared on the connection.
                || (s.startsWith(PREPARED_INSERT_PREFIX) && s.contains(PREPARED_INSERT_SUFFIX));
    }

    private static boolean isCommit(String sql) {
        return sql.strip().equalsIgnoreCase("COMMIT");
    }

    /** Whether one text of several statements ends with {@code COMMIT}, as txstep joins them on PostgreSQL. */
    private static boolean endsWithCommit(String sql) {
        return sql.stripTrailing().toUpperCase(Locale.ROOT).endsWith("; COMMIT");
    }

    /** The error the caller sees instead of the commit's acknowledgement. */
    private R2dbcNonTransientResourceException lost() {
        dropped.incrementAndGet();
        return new R2dbcNonTransientResourceException("txstep-test: the connection was lost after the database"
                + " committed and before it acknowledged the commit (an injected fault)", "08006");
    }

    /** A connection that remembers whether its transaction wrote an output row. */
    private final class FaultConnection implements Connection, Wrapped<Connection> {

        private final Connection connection;
        private volatile boolean outputWritten;

        FaultConnection(Connection connection) {
            this.connection = connection;
        }

        @Override
        public Publisher<Void> beginTransaction() {
            outputWritten = false;
            return connection.beginTransaction();
        }

        @Override
        public Publisher<Void> beginTransaction(TransactionDefinition definition) {
            outputWritten = false;
            return connection.beginTransaction(definition);
        }

        @Override
        public Publisher<Void> commitTransaction() {
            if (!outputWritten) {
                return connection.commitTransaction();
            }
            return Mono.defer(() -> {
                outputWritten = false;
                if (!hit()) {
                    return Mono.from(connection.commitTransaction());
                }
                return Mono.from(connection.commitTransaction()).then(Mono.error(lost()));
            });
        }

        @Override
        public Publisher<Void> rollbackTransaction() {
            outputWritten = false;
            return connection.rollbackTransaction();
        }

        @Override
        public Batch createBatch() {
            return new FaultBatch(connection.createBatch());
        }

        @Override
        public Statement createStatement(String sql) {
            if (writesOutput(sql) && endsWithCommit(sql)) {
                return new CommittingStatement(connection.createStatement(sql));
            }
            if (writesOutput(sql)) {
                outputWritten = true;
            }
            return connection.createStatement(sql);
        }

        @Override
        public Publisher<Void> close() {
            return connection.close();
        }

        @Override
        public Publisher<Void> createSavepoint(String name) {
            return connection.createSavepoint(name);
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
        public Publisher<Void> releaseSavepoint(String name) {
            return connection.releaseSavepoint(name);
        }

        @Override
        public Publisher<Void> rollbackTransactionToSavepoint(String name) {
            return connection.rollbackTransactionToSavepoint(name);
        }

        @Override
        public Publisher<Void> setAutoCommit(boolean autoCommit) {
            return connection.setAutoCommit(autoCommit);
        }

        @Override
        public Publisher<Void> setLockWaitTimeout(Duration timeout) {
            return connection.setLockWaitTimeout(timeout);
        }

        @Override
        public Publisher<Void> setStatementTimeout(Duration timeout) {
            return connection.setStatementTimeout(timeout);
        }

        @Override
        public Publisher<Void> setTransactionIsolationLevel(IsolationLevel level) {
            return connection.setTransactionIsolationLevel(level);
        }

        @Override
        public Publisher<Boolean> validate(ValidationDepth depth) {
            return connection.validate(depth);
        }

        @Override
        public Connection unwrap() {
            return connection;
        }

        /** Runs the statements that commit an output row; loses the acknowledgement if this commit is hit. */
        private Publisher<? extends Result> commitOutput(Publisher<? extends Result> results) {
            outputWritten = false;
            if (!hit()) {
                return results;
            }
            // Read every result, so the server has run the COMMIT and answered; then lose the answer.
            return Flux.from(results)
                    .concatMap(result -> Flux.from(result.getRowsUpdated()))
                    .thenMany(Flux.<Result>error(lost()));
        }

        /** One text that inserts an output row and commits: it may lose the commit's acknowledgement. */
        private final class CommittingStatement implements Statement {

            private final Statement statement;

            CommittingStatement(Statement statement) {
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
            public Publisher<? extends Result> execute() {
                return Flux.defer(() -> commitOutput(statement.execute()));
            }
        }

        /** A batch that, when it carries an output row and COMMIT, may lose the commit's acknowledgement. */
        private final class FaultBatch implements Batch {

            private final Batch batch;
            private final List<String> statements = new ArrayList<>();

            FaultBatch(Batch batch) {
                this.batch = batch;
            }

            @Override
            public Batch add(String sql) {
                statements.add(sql);
                batch.add(sql);
                return this;
            }

            @Override
            public Publisher<? extends Result> execute() {
                boolean writes = outputWritten || statements.stream().anyMatch(FaultInjectingConnectionFactory::writesOutput);
                boolean commits = statements.stream().anyMatch(FaultInjectingConnectionFactory::isCommit);
                if (!commits) {
                    if (writes) {
                        outputWritten = true;
                    }
                    return batch.execute();
                }
                if (!writes) {
                    outputWritten = false;
                    return batch.execute();
                }
                return commitOutput(batch.execute());
            }
        }
    }
}
