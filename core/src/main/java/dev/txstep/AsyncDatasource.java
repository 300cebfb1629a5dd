package dev.txstep;

import dev.txstep.internal.Dialect;
import dev.txstep.internal.Dialects;
import dev.txstep.internal.Migrator;
import dev.txstep.internal.OutputStore;
import dev.txstep.internal.R2dbcUrls;
import dev.txstep.internal.StepEngine;
import dev.txstep.internal.StepNames;
import dev.txstep.internal.StepSpec;
import dev.txstep.internal.Texts;
import dev.txstep.internal.WorkerThreads;
import io.r2dbc.pool.ConnectionPool;
import io.r2dbc.pool.ConnectionPoolConfiguration;
import io.r2dbc.spi.ConnectionFactories;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.ConnectionFactoryOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Runs exactly-once transaction steps over R2DBC: the reactive datasource.
 *
 * <p>A step runs the caller's function in one database transaction and, in a workflow, writes the
 * function's serialized output into {@code datasource_outputs} in that same transaction, keyed by
 * {@link StepKey}. When the workflow is replayed, a recorded step returns its recorded output (or
 * raises its recorded error) and does not run again. The workflow is found in the subscriber's
 * Reactor {@code Context} under {@link WorkflowScope#CONTEXT_KEY} (see {@code Workflow.run} in the
 * reactor adapter); outside a workflow a step is a plain transaction with retries, and nothing is
 * recorded.
 *
 * <p>Every method is lazy: nothing happens until the returned publisher is subscribed, and each
 * subscription is a new step (a new step id in a workflow). Thread-safe.
 */
public final class AsyncDatasource {

    /** Rows deleted per statement by the prune methods. */
    static final int PRUNE_BATCH = 1000;

    private final StepEngine engine;
    private final OutputStore store;
    private final ConnectionFactory connectionFactory;
    private final ConnectionPool ownedPool;
    private final Config config;

    private AsyncDatasource(Config config, ConnectionFactory connectionFactory, ConnectionPool ownedPool,
            OutputStore store, StepEngine engine) {
        this.config = config;
        this.connectionFactory = connectionFactory;
        this.ownedPool = ownedPool;
        this.store = store;
        this.engine = engine;
    }

    /**
     * Creates a datasource for an R2DBC URL with all other settings at their defaults.
     *
     * @param r2dbcUrl e.g. {@code r2dbc:postgresql://postgres@127.0.0.1:5432/app} or
     *                 {@code r2dbc:h2:mem:///app}
     * @return on subscribe, validates the URL, builds a connection pool, installs the output table
     *         (blocking JDBC work, run on a {@code Schedulers.boundedElastic()} thread) and emits the
     *         datasource; errors with {@link InvalidConfigurationException} for a bad or unsupported
     *         URL, or {@link DatasourceException} if the migration fails
     */
    public static Mono<AsyncDatasource> create(String r2dbcUrl) {
        return Mono.defer(() -> create(Config.builder().url(r2dbcUrl).build()));
    }

    /**
     * Creates a datasource from a configuration.
     *
     * @param config the configuration
     * @return on subscribe, builds the connection pool (unless the configuration brings its own
     *         connection factory), installs the output table unless {@code migrate(false)}, and emits
     *         the datasource; errors with {@link InvalidConfigurationException} for an unusable
     *         configuration (nothing is created), or {@link DatasourceException} if the migration
     *         fails (the pool it built is disposed)
     */
    public static Mono<AsyncDatasource> create(Config config) {
        if (config == null) {
            return Mono.error(new InvalidConfigurationException("config must not be null"));
        }
        return Mono.fromCallable(() -> open(config)).subscribeOn(WorkerThreads.scheduler());
    }

    private static AsyncDatasource open(Config config) {
        ConnectionFactory factory = config.connectionFactory;
        ConnectionPool ownedPool = null;
        if (factory == null) {
            ConnectionFactoryOptions options = R2dbcUrls.parse(config.url);
            ConnectionFactory driverFactory;
            try {
                driverFactory = ConnectionFactories.find(options);
            } catch (RuntimeException e) {
                throw new InvalidConfigurationException("cannot use R2DBC URL '" + R2dbcUrls.redact(config.url) + "': "
                        + e.getMessage(), e);
            }
            if (driverFactory == null) {
                throw new InvalidConfigurationException("no R2DBC driver on the class path accepts '"
                        + R2dbcUrls.redact(config.url) + "' (driver '" + options.getValue(ConnectionFactoryOptions.DRIVER)
                        + "'): add the driver's artifact, e.g. org.postgresql:r2dbc-postgresql or io.r2dbc:r2dbc-h2");
            }
            if (driverFactory instanceof ConnectionPool pool) {
                ownedPool = pool; // an r2dbc:pool: URL configures its own pool
            } else {
                ConnectionPoolConfiguration.Builder pool = ConnectionPoolConfiguration.builder(driverFactory)
                        .name("txstep")
                        .initialSize(config.initialPoolSize)
                        .maxSize(config.maxPoolSize)
                        .maxIdleTime(config.maxIdleTime);
                if (config.acquireTimeout != null) {
                    pool.maxAcquireTime(config.acquireTimeout);
                }
                ownedPool = new ConnectionPool(pool.build());
            }
            factory = ownedPool;
        }
        try {
            Dialect dialect = Dialects.of(factory);
            if (config.migrate) {
                if (config.jdbcDataSource != null) {
                    Migrator.migrate(dialect, config.schema, config.jdbcDataSource);
                } else if (config.jdbcUrl != null) {
                    Migrator.migrate(dialect, config.schema, config.jdbcUrl, config.jdbcUser, config.jdbcPassword);
                } else {
                    R2dbcUrls jdbc = R2dbcUrls.jdbcFor(config.url);
                    Migrator.migrate(dialect, config.schema, jdbc.url(),
                            config.jdbcUser != null ? config.jdbcUser : jdbc.user(),
                            config.jdbcPassword != null ? config.jdbcPassword : jdbc.password());
                }
            }
            OutputStore store = new OutputStore(factory, dialect, config.schema);
            StepEngine engine = new StepEngine(factory, dialect, store, config.serializer, config.retryPolicy,
                    config.observer, config.contextContributors);
            AsyncDatasource datasource = new AsyncDatasource(config, factory, ownedPool, store, engine);
            config.observer.datasourceCreated(datasource);
            return datasource;
        } catch (RuntimeException e) {
            if (ownedPool != null) {
                ownedPool.dispose();
            }
            throw e;
        }
    }

    /**
     * Runs a step with default options (see {@link DatasourceOptions}).
     *
     * @param fn  the step's function: receives the transaction's session and returns a publisher of
     *            at most one value
     * @param <R> the output's type
     * @return see {@link #runTxStepAsync(DatasourceOptions, Function)}
     * @throws InvalidInputException if {@code fn} is null
     */
    public <R> Mono<R> runTxStepAsync(Function<TxSession, ? extends Publisher<R>> fn) {
        return step(StepSpec.resolve(null, null, StepNames::ofCaller), fn);
    }

    /**
     * Runs a transaction step.
     *
     * <p>On subscribe: outside a workflow, begins a transaction at the isolation level, subscribes to
     * {@code fn}'s publisher and commits; nothing is recorded. In a workflow, claims the next step
     * id; if the step is recorded, emits its recorded output or errors with its recorded error, and
     * does not call {@code fn}; else runs {@code fn} in a transaction that also records its output,
     * and emits the output. Empty if the publisher completes without a value (replays as empty).
     *
     * <p>Errors: the function's own error, as raised, after it is recorded (in a workflow);
     * {@link RecordedStepException} when a recorded error is replayed; {@link NonDeterminismException}
     * if the recorded step has another name; {@link OutputSerializationException} if the output cannot
     * be recorded (the transaction is rolled back, nothing is recorded);
     * {@link InvalidInputException} if the publisher emits more than one value (rolled back, nothing
     * recorded); {@link RetriesExhaustedException} when serialization failures, deadlocks or lost
     * connections outlast the retry policy (nothing recorded); {@link DatasourceClosedException}
     * after {@link #close()}.
     *
     * <p>Cancelling before the commit rolls the transaction back; every outcome releases the
     * connection to the pool.
     *
     * @param options the step's name and isolation level; null for defaults
     * @param fn      the step's function: receives the transaction's session and returns a publisher
     *                of at most one value
     * @param <R>     the output's type
     * @return the step's output
     * @throws InvalidInputException if {@code fn} is null
     */
    public <R> Mono<R> runTxStepAsync(DatasourceOptions options, Function<TxSession, ? extends Publisher<R>> fn) {
        return step(StepSpec.resolve(options, null, StepNames::ofCaller), fn);
    }

    /**
     * Runs a transaction step whose output must be of a given type: a replayed output of another
     * type errors with {@link OutputSerializationException}. Otherwise as
     * {@link #runTxStepAsync(DatasourceOptions, Function)}.
     *
     * @param options the step's options; null for defaults
     * @param type    the output's type
     * @param fn      the step's function
     * @param <R>     the output's type
     * @return the step's output
     * @throws InvalidInputException if {@code type} or {@code fn} is null
     */
    public <R> Mono<R> runTxStepAsync(DatasourceOptions options, Class<R> type,
            Function<TxSession, ? extends Publisher<R>> fn) {
        if (type == null) {
            throw new InvalidInputException("output type must not be null");
        }
        return step(StepSpec.resolve(options, type, StepNames::ofCaller), fn);
    }

    /**
     * Wraps a function as a transaction step, the Java form of DBOS's {@code @transaction}: each
     * call of the returned function returns a new step, run as by
     * {@link #runTxStepAsync(DatasourceOptions, Function)}. The default name is the method that
     * called {@code transaction}.
     *
     * @param options the steps' options; null for defaults
     * @param fn      the step's function, given the session and the call's argument
     * @param <A>     the argument's type
     * @param <R>     the output's type
     * @return a function returning a lazy step per call
     * @throws InvalidInputException if {@code fn} is null
     */
    public <A, R> Function<A, Mono<R>> transaction(DatasourceOptions options,
            BiFunction<TxSession, A, ? extends Publisher<R>> fn) {
        if (fn == null) {
            throw new InvalidInputException("transaction function must not be null");
        }
        StepSpec spec = StepSpec.resolve(options, null, StepNames::ofCaller);
        return argument -> step(spec, session -> fn.apply(session, argument));
    }

    /**
     * {@link #transaction(DatasourceOptions, BiFunction)} with default options.
     *
     * @param fn  the step's function
     * @param <A> the argument's type
     * @param <R> the output's type
     * @return a function returning a lazy step per call
     * @throws InvalidInputException if {@code fn} is null
     */
    public <A, R> Function<A, Mono<R>> transaction(BiFunction<TxSession, A, ? extends Publisher<R>> fn) {
        return transaction(null, fn);
    }

    /**
     * The session of the transaction step whose function is running, found through the Reactor
     * {@code Context}: use it in publishers subscribed inside a step's function.
     *
     * @return on subscribe, the session; errors with {@link NoTransactionException} outside a step
     *         of this datasource
     */
    public Mono<TxSession> sqlSession() {
        return engine.currentSession();
    }

    /**
     * Deletes the outputs recorded more than {@code age} ago, in batches of
     * {@value #PRUNE_BATCH} rows, each batch a short transaction of its own on a pooled connection,
     * so that steps running meanwhile wait for no long-held locks. The {@code created_at} index
     * finds the rows.
     *
     * <p>A deleted output is forgotten: a workflow replayed after its outputs were pruned runs
     * those steps again. Choose an age beyond which no workflow can still be retried or recovered.
     *
     * @param age how old a row must be to go; zero deletes everything recorded until now
     * @return on subscribe, deletes; emits the number of rows deleted
     */
    public Mono<Long> pruneOlderThan(Duration age) {
        return Mono.defer(() -> {
            if (age == null || age.isNegative()) {
                return Mono.error(new InvalidInputException("age must be zero or positive, was " + age));
            }
            return store.deleteCreatedBefore(System.currentTimeMillis() - age.toMillis(), PRUNE_BATCH);
        });
    }

    /**
     * Deletes every output recorded for the given workflows, in batches of {@value #PRUNE_BATCH}
     * rows. Call it for workflows that have finished and will not be replayed: a workflow replayed
     * afterwards runs its steps again.
     *
     * @param workflowIds the workflows, each a valid workflow id
     * @return on subscribe, deletes; emits the number of rows deleted
     */
    public Mono<Long> pruneWorkflows(Collection<String> workflowIds) {
        return Mono.defer(() -> {
            if (workflowIds == null) {
                return Mono.error(new InvalidInputException("workflowIds must not be null"));
            }
            List<String> ids = List.copyOf(workflowIds); // also refuses null elements
            ids.forEach(StepKey::requireValidWorkflowId);
            return Flux.fromIterable(ids).concatMap(id -> store.deleteWorkflow(id, PRUNE_BATCH)).reduce(0L, Long::sum);
        }).onErrorMap(NullPointerException.class, e -> new InvalidInputException("workflowIds must not contain null"));
    }

    /**
     * Forgets the recorded outcome of one step, so that the next execution of its workflow runs
     * that step again. Meant for an outcome recorded because of a defect since fixed (a recorded
     * error the code should never have raised); to forget a whole workflow, use
     * {@link #pruneWorkflows}. The workflow's later steps keep their records: the step runs again,
     * the ones after it still replay. Do not call it while the workflow may be running.
     *
     * @param key the step, as {@link RecordedStepException#key()} or {@code TxSession.stepKey()} name it
     * @return on subscribe, deletes the step's row in a transaction of its own; emits whether a row
     *         was there. Errors with {@link InvalidInputException} if {@code key} is null
     */
    public Mono<Boolean> pruneStep(StepKey key) {
        return Mono.defer(() -> key == null ? Mono.error(new InvalidInputException("step key must not be null"))
                : store.deleteStep(key));
    }

    /**
     * The connection factory steps take connections from: the pool this datasource built (an
     * {@code io.r2dbc.pool.ConnectionPool}, whose metrics tell acquired and idle connections), or the
     * one the configuration gave.
     *
     * @return the connection factory
     */
    public ConnectionFactory connectionFactory() {
        return connectionFactory;
    }

    /**
     * The schema holding {@code datasource_outputs}.
     *
     * @return the schema name
     */
    public String schema() {
        return config.schema;
    }

    /**
     * Closes the datasource: new steps error with {@link DatasourceClosedException}, running steps
     * finish, then the pool this datasource built is disposed (a connection factory the
     * configuration gave is left open).
     *
     * @return on subscribe, closes; completes when running steps have finished and the pool is disposed
     */
    public Mono<Void> close() {
        return Mono.defer(() -> engine.close()
                .then(ownedPool == null ? Mono.empty() : ownedPool.disposeLater()));
    }

    /** Runs a step whose options every entry point resolved with {@link StepSpec#resolve}. */
    <R> Mono<R> step(StepSpec spec, Function<TxSession, ? extends Publisher<R>> fn) {
        if (fn == null) {
            throw new InvalidInputException("step function must not be null");
        }
        return engine.run(spec, fn);
    }

    /**
     * The immutable configuration of an {@link AsyncDatasource}: the Java form of DBOS's
     * {@code create(database_url, engine_kwargs, engine, schema, serializer)}.
     */
    public static final class Config {

        private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,62}");

        private final String url;
        private final ConnectionFactory connectionFactory;
        private final String jdbcUrl;
        private final String jdbcUser;
        private final String jdbcPassword;
        private final DataSource jdbcDataSource;
        private final boolean migrate;
        private final String schema;
        private final Serializer serializer;
        private final RetryPolicy retryPolicy;
        private final int initialPoolSize;
        private final int maxPoolSize;
        private final Duration acquireTimeout;
        private final Duration maxIdleTime;
        private final StepObserver observer;
        private final List<StepContextContributor> contextContributors;

        private Config(Builder b) {
            this.url = b.url;
            this.connectionFactory = b.connectionFactory;
            this.jdbcUrl = b.jdbcUrl;
            this.jdbcUser = b.jdbcUser;
            this.jdbcPassword = b.jdbcPassword;
            this.jdbcDataSource = b.jdbcDataSource;
            this.migrate = b.migrate;
            this.schema = b.schema;
            this.serializer = b.serializer;
            this.retryPolicy = b.retryPolicy;
            this.initialPoolSize = b.initialPoolSize;
            this.maxPoolSize = b.maxPoolSize;
            this.acquireTimeout = b.acquireTimeout;
            this.maxIdleTime = b.maxIdleTime;
            this.observer = b.observer;
            this.contextContributors = List.copyOf(b.contextContributors);
        }

        /**
         * A builder with every setting at its default.
         *
         * @return a new builder
         */
        public static Builder builder() {
            return new Builder();
        }

        /**
         * Builds a {@link Config}. Every method validates its argument at once and throws
         * {@link InvalidConfigurationException} naming the setting. Not thread-safe.
         */
        public static final class Builder {

            private String url;
            private ConnectionFactory connectionFactory;
            private String jdbcUrl;
            private String jdbcUser;
            private String jdbcPassword;
            private DataSource jdbcDataSource;
            private boolean migrate = true;
            private String schema = "dbos";
            private Serializer serializer = JacksonSerializer.create();
            private RetryPolicy retryPolicy = RetryPolicy.defaults();
            private int initialPoolSize = 1;
            private int maxPoolSize = 10;
            private Duration acquireTimeout = Duration.ofSeconds(30);
            private Duration maxIdleTime = Duration.ofMinutes(30);
            private StepObserver observer = StepObserver.NONE;
            private final List<StepContextContributor> contextContributors = new ArrayList<>(2);

            private Builder() {
            }

            /**
             * Adds a contributor to the Reactor context every step's function is subscribed with,
             * given the step's connection: how an integration (the Spring Boot starter's, say) makes
             * its data-access code run inside the step's transaction. May be called more than once;
             * contributors apply in the order added. None by default.
             *
             * @param contributor the contributor, not null
             * @return this builder
             * @throws InvalidConfigurationException if null
             */
            public Builder addContextContributor(StepContextContributor contributor) {
                if (contributor == null) {
                    throw new InvalidConfigurationException("context contributor must not be null");
                }
                this.contextContributors.add(contributor);
                return this;
            }

            /**
             * Who hears how steps end and when they are retried: metrics, tracing. Defaults to
             * {@link StepObserver#NONE}. For Micrometer, see
             * {@code dev.txstep.micrometer.MicrometerStepObserver}.
             *
             * @param observer the observer, not null
             * @return this builder
             * @throws InvalidConfigurationException if null
             */
            public Builder observer(StepObserver observer) {
                if (observer == null) {
                    throw new InvalidConfigurationException("observer must not be null (StepObserver.NONE observes nothing)");
                }
                this.observer = observer;
                return this;
            }

            /**
             * The R2DBC URL of the database; the datasource builds an r2dbc-pool pool over it (or
             * uses the pool an {@code r2dbc:pool:} URL configures). Either this or
             * {@link #connectionFactory} is required.
             *
             * @param r2dbcUrl e.g. {@code r2dbc:postgresql://user:secret@host:5432/app}
             * @return this builder
             * @throws InvalidConfigurationException if the URL is blank or malformed
             */
            public Builder url(String r2dbcUrl) {
                R2dbcUrls.parse(r2dbcUrl);
                this.url = r2dbcUrl.trim();
                return this;
            }

            /**
             * A connection factory to use as it is — typically the application's own pool. It is
             * not closed by {@link AsyncDatasource#close()}. Migrations then need
             * {@link #jdbcUrl}, {@link #jdbcDataSource} or {@code migrate(false)}.
             *
             * @param factory the factory, not null
             * @return this builder
             * @throws InvalidConfigurationException if null
             */
            public Builder connectionFactory(ConnectionFactory factory) {
                if (factory == null) {
                    throw new InvalidConfigurationException("connectionFactory must not be null");
                }
                this.connectionFactory = factory;
                return this;
            }

            /**
             * The JDBC URL Flyway migrates through. Defaults to one derived from the R2DBC URL
             * (PostgreSQL and H2), with the R2DBC URL's user and password.
             *
             * @param url a {@code jdbc:} URL
             * @return this builder
             * @throws InvalidConfigurationException if it does not start with {@code jdbc:}
             */
            public Builder jdbcUrl(String url) {
                if (url == null || !url.trim().startsWith("jdbc:")) {
                    throw new InvalidConfigurationException("jdbcUrl must start with 'jdbc:', was '"
                            + R2dbcUrls.redact(url) + "'");
                }
                this.jdbcUrl = url.trim();
                return this;
            }

            /**
             * Credentials for the JDBC migration connection, when they differ from the R2DBC URL's.
             *
             * @param user     the user, or null
             * @param password the password, or null
             * @return this builder
             */
            public Builder jdbcCredentials(String user, String password) {
                this.jdbcUser = user;
                this.jdbcPassword = password;
                return this;
            }

            /**
             * A JDBC data source Flyway migrates through, instead of a JDBC URL.
             *
             * @param dataSource the data source, not null
             * @return this builder
             * @throws InvalidConfigurationException if null
             */
            public Builder jdbcDataSource(DataSource dataSource) {
                if (dataSource == null) {
                    throw new InvalidConfigurationException("jdbcDataSource must not be null");
                }
                this.jdbcDataSource = dataSource;
                return this;
            }

            /**
             * Whether {@code create} installs or upgrades the output table. Defaults to true.
             * Turn it off when the table is installed by other means.
             *
             * @param migrate whether to migrate
             * @return this builder
             */
            public Builder migrate(boolean migrate) {
                this.migrate = migrate;
                return this;
            }

            /**
             * The schema of {@code datasource_outputs} and of Flyway's {@code txstep_schema_history}.
             * Defaults to {@code dbos}. A plain SQL identifier: a letter or underscore, then letters,
             * digits or underscores, 63 characters at most. Used quoted, so it is case-sensitive.
             *
             * @param schema the schema name
             * @return this builder
             * @throws InvalidConfigurationException if it is not a plain identifier, or starts with
             *                                       {@code pg_}
             */
            public Builder schema(String schema) {
                if (schema == null || !IDENTIFIER.matcher(schema).matches()) {
                    throw new InvalidConfigurationException("schema must be a plain SQL identifier (a letter or"
                            + " '_', then letters, digits or '_', at most 63 characters), was '" + schema + "'");
                }
                if (schema.startsWith("pg_")) {
                    // PostgreSQL refuses to create such a schema; refused here on every database, so a
                    // configuration does not work on one and fail on another.
                    throw new InvalidConfigurationException("schema names starting with 'pg_' are reserved for"
                            + " PostgreSQL's system schemas, was '" + schema + "'");
                }
                this.schema = schema;
                return this;
            }

            /**
             * The serializer of step outputs. Defaults to {@link JacksonSerializer#create()}.
             *
             * @param serializer the serializer, not null
             * @return this builder
             * @throws InvalidConfigurationException if null
             */
            public Builder serializer(Serializer serializer) {
                if (serializer == null) {
                    throw new InvalidConfigurationException("serializer must not be null");
                }
                String name = serializer.name();
                if (name == null || name.isBlank()) {
                    throw new InvalidConfigurationException("serializer name must not be blank");
                }
                String unstorable = Texts.unstorable(name);
                if (unstorable != null) {
                    throw new InvalidConfigurationException("serializer name must not contain " + unstorable
                            + ": it is recorded with every output");
                }
                this.serializer = serializer;
                return this;
            }

            /**
             * How transient failures are retried. Defaults to {@link RetryPolicy#defaults()}.
             *
             * @param policy the policy, not null
             * @return this builder
             * @throws InvalidConfigurationException if null
             */
            public Builder retryPolicy(RetryPolicy policy) {
                if (policy == null) {
                    throw new InvalidConfigurationException("retryPolicy must not be null");
                }
                this.retryPolicy = policy;
                return this;
            }

            /**
             * Connections the pool opens at start. Defaults to 1; zero or more, at most
             * {@link #maxPoolSize}.
             *
             * @param size the initial size
             * @return this builder
             * @throws InvalidConfigurationException if negative
             */
            public Builder initialPoolSize(int size) {
                if (size < 0) {
                    throw new InvalidConfigurationException("initialPoolSize must be zero or more, was " + size);
                }
                this.initialPoolSize = size;
                return this;
            }

            /**
             * The most connections the pool holds. Defaults to 10; at least 1.
             *
             * @param size the maximum size
             * @return this builder
             * @throws InvalidConfigurationException if less than 1
             */
            public Builder maxPoolSize(int size) {
                if (size < 1) {
                    throw new InvalidConfigurationException("maxPoolSize must be at least 1, was " + size);
                }
                this.maxPoolSize = size;
                return this;
            }

            /**
             * How long a step waits for a pooled connection before failing (a retryable failure).
             * Defaults to 30 seconds; null means no limit.
             *
             * @param timeout a positive duration, or null
             * @return this builder
             * @throws InvalidConfigurationException if zero or negative
             */
            public Builder acquireTimeout(Duration timeout) {
                if (timeout != null && (timeout.isNegative() || timeout.isZero())) {
                    throw new InvalidConfigurationException("acquireTimeout must be positive or null, was " + timeout);
                }
                this.acquireTimeout = timeout;
                return this;
            }

            /**
             * How long an idle pooled connection is kept. Defaults to 30 minutes; must be positive.
             *
             * @param idle a positive duration
             * @return this builder
             * @throws InvalidConfigurationException if null, zero or negative
             */
            public Builder maxIdleTime(Duration idle) {
                if (idle == null || idle.isNegative() || idle.isZero()) {
                    throw new InvalidConfigurationException("maxIdleTime must be positive, was " + idle);
                }
                this.maxIdleTime = idle;
                return this;
            }

            /**
             * Builds the configuration after checking the settings together.
             *
             * @return the configuration
             * @throws InvalidConfigurationException if neither or both of url and connectionFactory are
             *                                       set, no driver accepts the URL, the pool sizes
             *                                       disagree, or migrations have no JDBC source
             */
            public Config build() {
                if ((url == null) == (connectionFactory == null)) {
                    throw new InvalidConfigurationException("set exactly one of url(...) and connectionFactory(...)");
                }
                if (initialPoolSize > maxPoolSize) {
                    throw new InvalidConfigurationException("initialPoolSize (" + initialPoolSize
                            + ") must not exceed maxPoolSize (" + maxPoolSize + ")");
                }
                if (migrate && connectionFactory != null && jdbcUrl == null && jdbcDataSource == null) {
                    throw new InvalidConfigurationException("with a connectionFactory, migrations need jdbcUrl(...) or"
                            + " jdbcDataSource(...); or set migrate(false) if the table is installed otherwise");
                }
                if (url != null && !ConnectionFactories.supports(R2dbcUrls.parse(url))) {
                    throw new InvalidConfigurationException("no R2DBC driver on the class path accepts '"
                            + R2dbcUrls.redact(url) + "': check the driver name, or add the driver's artifact,"
                            + " e.g. org.postgresql:r2dbc-postgresql or io.r2dbc:r2dbc-h2");
                }
                if (migrate && url != null && jdbcUrl == null && jdbcDataSource == null) {
                    R2dbcUrls.jdbcFor(url); // fail now, not at create, if no JDBC URL can be derived
                }
                return new Config(this);
            }
        }
    }
}
