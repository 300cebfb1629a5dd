package dev.txstep.spring;

import java.time.Duration;
import java.util.List;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;

/**
 * The {@code txstep.*} settings of the auto-configured datasource and web filter, with their
 * defaults. Values are checked when the beans are built: a value txstep refuses fails start-up
 * with a message naming the property. (The component descriptions are written as Spring Boot's
 * configuration metadata shows them to IDEs: plain sentences.)
 *
 * @param schema         Schema of the datasource_outputs table and of Flyway's
 *                       txstep_schema_history table: a plain SQL identifier, used quoted
 *                       (case-sensitive).
 * @param migrate        Whether start-up installs or upgrades the output table. Turn it off when
 *                       the table is installed by other means.
 * @param jdbcUrl        JDBC URL the migration connects through. Defaults to one derived from
 *                       spring.r2dbc.url (PostgreSQL, MariaDB and H2 URLs); required when the
 *                       application's ConnectionFactory is not built from that property.
 * @param jdbcUsername   User of the migration's JDBC connection. Defaults to spring.r2dbc.username,
 *                       then to the user in spring.r2dbc.url.
 * @param jdbcPassword   Password of the migration's JDBC connection. Defaults to
 *                       spring.r2dbc.password, then to the password in spring.r2dbc.url.
 * @param replicaUrl     R2DBC URL of a read replica (a streaming standby): read-only steps run
 *                       there; recorded steps never do. A replica may lag behind the primary.
 * @param startupTimeout How long start-up waits for the datasource, the migration included, before
 *                       failing.
 * @param retry          How steps are retried after transient failures.
 * @param web            The WebFlux integration.
 */
@ConfigurationProperties(prefix = "txstep")
public record TxstepProperties(
        @DefaultValue("dbos") String schema,
        @DefaultValue("true") boolean migrate,
        String jdbcUrl,
        String jdbcUsername,
        String jdbcPassword,
        String replicaUrl,
        @DefaultValue("60s") Duration startupTimeout,
        @DefaultValue Retry retry,
        @DefaultValue Web web) {

    /**
     * The {@code txstep.retry.*} settings: how a step is retried after a serialization failure, a
     * deadlock or a lost connection. The defaults are those of {@code RetryPolicy.defaults()}.
     *
     * @param maxAttempts    Attempts in all, the first included; at least 1 (1 means no retry).
     * @param initialBackoff Wait before the first retry; positive.
     * @param maxBackoff     Longest wait between attempts; at least the initial backoff.
     * @param jitter         Randomized share of each wait, from 0 (none) to 1.
     */
    public record Retry(
            @DefaultValue("10") int maxAttempts,
            @DefaultValue("10ms") Duration initialBackoff,
            @DefaultValue("2s") Duration maxBackoff,
            @DefaultValue("0.5") double jitter) {
    }

    /**
     * The {@code txstep.web.*} settings.
     *
     * @param idempotencyKey The Idempotency-Key web filter.
     */
    public record Web(@DefaultValue IdempotencyKey idempotencyKey) {
    }

    /**
     * The {@code txstep.web.idempotency-key.*} settings of {@code IdempotencyKeyWebFilter}.
     *
     * @param enabled          Whether a reactive web application gets the Idempotency-Key web
     *                         filter: every POST or PATCH that carries the header then runs as a
     *                         workflow named after the key.
     * @param headerName       Request header that carries the key.
     * @param workflowIdPrefix What the workflow ids of keyed requests start with.
     * @param fingerprint        Whether each keyed request's fingerprint (method, path and query,
     *                           body, fingerprint headers) is recorded as the first step of its
     *                           workflow, so a key reused for a different request is answered 422.
     *                           Needs txstep's datasource bean.
     * @param fingerprintHeaders Request headers whose values are part of the fingerprint.
     * @param maxBodySize        Largest request body read for a fingerprint; a larger one is
     *                           answered 413.
     * @param retryAfter         Retry-After of a 503, the answer to a failure that recorded nothing
     *                           (retries ran out, a lost connection, shutting down); whole seconds,
     *                           at least 1.
     */
    public record IdempotencyKey(
            @DefaultValue("false") boolean enabled,
            @DefaultValue("Idempotency-Key") String headerName,
            @DefaultValue("idempotency-key:") String workflowIdPrefix,
            @DefaultValue("true") boolean fingerprint,
            @DefaultValue List<String> fingerprintHeaders,
            @DefaultValue("256KB") DataSize maxBodySize,
            @DefaultValue("1s") Duration retryAfter) {
    }
}
