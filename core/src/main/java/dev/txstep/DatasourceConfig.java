package dev.txstep;

import dev.txstep.internal.R2dbcUrls;
import dev.txstep.internal.Texts;
import dev.txstep.internal.engine.DatasourceSettings;
import dev.txstep.observe.StepObserver;
import dev.txstep.serialization.JacksonSerializer;
import dev.txstep.serialization.Serializer;
import dev.txstep.spi.JdbcCoordinates;
import dev.txstep.spi.StepContextContributor;
import io.r2dbc.spi.ConnectionFactories;
import io.r2dbc.spi.ConnectionFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import javax.sql.DataSource;

/**
 * The immutable configuration of an {@link AsyncDatasource}: the Java form of DBOS's
 * {@code create(database_url, engine_kwargs, engine, schema, serializer)}. Built by a
 * {@link Builder} that validates every setting as it is given and the settings together at
 * {@link Builder#build()}, so {@link AsyncDatasource#create(DatasourceConfig)} starts from a
 * configuration known to be usable.
 *
 * <p>What a configuration holds is read by the datasource, not by its users: it has no public
 * getters. Immutable and thread-safe.
 */
public final class DatasourceConfig {

    private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,62}");

    private final DatasourceSettings settings;

    private DatasourceConfig(DatasourceSettings settings) {
        this.settings = settings;
    }

    /** The validated settings, as the datasource's assembly reads them. */
    DatasourceSettings settings() {
        return settings;
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
     * Builds a {@link DatasourceConfig}. Every method validates its argument at once and throws
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
        private String replicaUrl;
        private ConnectionFactory replicaConnectionFactory;
        private final List<StepContextContributor> contextContributors = new ArrayList<>(2);

        private Builder() {
        }

        /**
         * Adds a contributor to the Reactor context every step's function is subscribed with, given
         * the step's connection: how an integration (the Spring Boot starter's, say) makes its
         * data-access code run inside the step's transaction. May be called more than once;
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
         * The R2DBC URL of a read replica (a streaming standby) for read-only steps
         * ({@link DatasourceOptions#asReadOnly()}): they run there, in a pool the datasource builds
         * with the same pool settings and closes. Recorded steps, and every read of the output
         * table, stay on {@link #url}'s database. A replica may lag behind the primary: a read-only
         * step may not yet see what a step committed just before it. PostgreSQL refuses
         * SERIALIZABLE (the default level) on a standby: give read-only steps READ COMMITTED or
         * REPEATABLE READ. Optional.
         *
         * @param r2dbcUrl e.g. {@code r2dbc:postgresql://app@replica:5432/app}
         * @return this builder
         * @throws InvalidConfigurationException if the URL is blank or malformed
         */
        public Builder replicaUrl(String r2dbcUrl) {
            if (r2dbcUrl == null || r2dbcUrl.isBlank()) {
                throw new InvalidConfigurationException("replicaUrl must not be blank");
            }
            try {
                R2dbcUrls.parse(r2dbcUrl);
            } catch (InvalidConfigurationException e) {
                throw new InvalidConfigurationException("replicaUrl: " + e.getMessage(), e);
            }
            this.replicaUrl = r2dbcUrl.trim();
            return this;
        }

        /**
         * A connection factory for a read replica, used as it is (not closed) for read-only steps;
         * see {@link #replicaUrl}. Optional.
         *
         * @param factory the replica's factory, not null
         * @return this builder
         * @throws InvalidConfigurationException if null
         */
        public Builder replicaConnectionFactory(ConnectionFactory factory) {
            if (factory == null) {
                throw new InvalidConfigurationException("replicaConnectionFactory must not be null");
            }
            this.replicaConnectionFactory = factory;
            return this;
        }

        /**
         * Who hears how steps end and when they are retried: metrics, tracing. Defaults to
         * {@link StepObserver#NONE}. For Micrometer, see
         * {@link dev.txstep.micrometer.MicrometerStepObserver}.
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
            this.connectionFactory = required(factory, "connectionFactory");
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
            this.jdbcDataSource = required(dataSource, "jdbcDataSource");
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
            String name = required(serializer, "serializer").name();
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
            this.retryPolicy = required(policy, "retryPolicy");
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

        /** A setting that must not be null, as given; refused with a message naming it. */
        private static <T> T required(T value, String setting) {
            if (value == null) {
                throw new InvalidConfigurationException(setting + " must not be null");
            }
            return value;
        }

        /**
         * Builds the configuration after checking the settings together.
         *
         * @return the configuration
         * @throws InvalidConfigurationException if neither or both of url and connectionFactory are
         *                                       set (or both replica settings), no driver accepts a
         *                                       URL, the pool sizes disagree, or migrations have no
         *                                       JDBC source
         */
        public DatasourceConfig build() {
            if ((url == null) == (connectionFactory == null)) {
                throw new InvalidConfigurationException("set exactly one of url(...) and connectionFactory(...)");
            }
            if (replicaUrl != null && replicaConnectionFactory != null) {
                throw new InvalidConfigurationException(
                        "set at most one of replicaUrl(...) and replicaConnectionFactory(...)");
            }
            if (replicaUrl != null && !ConnectionFactories.supports(R2dbcUrls.parse(replicaUrl))) {
                throw new InvalidConfigurationException("replicaUrl: no R2DBC driver on the class path accepts '"
                        + R2dbcUrls.redact(replicaUrl) + "'");
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
                JdbcCoordinates.derivedFrom(url); // fail now, not at create, if no JDBC URL can be derived
            }
            return new DatasourceConfig(new DatasourceSettings(url, connectionFactory, jdbcUrl, jdbcUser, jdbcPassword,
                    jdbcDataSource, migrate, schema, serializer, retryPolicy, initialPoolSize, maxPoolSize,
                    acquireTimeout, maxIdleTime, observer, replicaUrl, replicaConnectionFactory,
                    List.copyOf(contextContributors)));
        }
    }
}
