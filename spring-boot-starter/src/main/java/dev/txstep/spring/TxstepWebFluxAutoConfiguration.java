package dev.txstep.spring;

import dev.txstep.AsyncDatasource;
import dev.txstep.reactor.IdempotencyKeyWebFilter;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.web.server.WebFilter;

/**
 * Registers {@link IdempotencyKeyWebFilter} in a reactive web application when
 * {@code txstep.web.idempotency-key.enabled=true}: every POST or PATCH carrying the key's header
 * then runs as a workflow named after the key, so a retried request replays the steps its first
 * attempt committed. Spring Boot adds {@code WebFilter} beans to the server's filter chain. Backs
 * off when the application defines its own filter (to set a key scope, say). With txstep's
 * {@link AsyncDatasource} bean (and {@code txstep.web.idempotency-key.fingerprint}, on by default)
 * the filter records each request's fingerprint on it, so a key reused for a different request is
 * answered 422.
 */
@AutoConfiguration(after = TxstepAutoConfiguration.class)
@ConditionalOnClass({WebFilter.class, IdempotencyKeyWebFilter.class})
@ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.REACTIVE)
@ConditionalOnProperty(name = "txstep.web.idempotency-key.enabled", havingValue = "true")
@EnableConfigurationProperties(TxstepProperties.class)
public class TxstepWebFluxAutoConfiguration {

    /** Creates the auto-configuration; Spring calls it. */
    public TxstepWebFluxAutoConfiguration() {
    }

    /** The filter, with the {@code txstep.web.idempotency-key.*} settings. */
    @Bean
    @ConditionalOnMissingBean
    IdempotencyKeyWebFilter txstepIdempotencyKeyWebFilter(TxstepProperties properties,
            ObjectProvider<AsyncDatasource> datasource) {
        TxstepProperties.IdempotencyKey settings = properties.web().idempotencyKey();
        IdempotencyKeyWebFilter.Builder builder = IdempotencyKeyWebFilter.builder();
        PropertyErrors.set("txstep.web.idempotency-key.header-name", settings.headerName(), builder::headerName);
        PropertyErrors.set("txstep.web.idempotency-key.workflow-id-prefix", settings.workflowIdPrefix(),
                builder::workflowIdPrefix);
        PropertyErrors.set("txstep.web.idempotency-key.fingerprint-headers", settings.fingerprintHeaders(),
                headers -> builder.fingerprintHeaders(headers.toArray(String[]::new)));
        long maxBodySize = settings.maxBodySize().toBytes();
        if (maxBodySize > Integer.MAX_VALUE) {
            throw PropertyErrors.refused("txstep.web.idempotency-key.max-body-size", settings.maxBodySize(),
                    "at most " + Integer.MAX_VALUE + " bytes");
        }
        PropertyErrors.set("txstep.web.idempotency-key.max-body-size", (int) maxBodySize, builder::maxBodySize);
        PropertyErrors.set("txstep.web.idempotency-key.retry-after", settings.retryAfter(), builder::retryAfter);
        if (settings.fingerprint()) {
            // Fingerprints need somewhere to be recorded; without txstep's datasource there is none.
            datasource.ifAvailable(builder::datasource);
        }
        return builder.build();
    }
}
