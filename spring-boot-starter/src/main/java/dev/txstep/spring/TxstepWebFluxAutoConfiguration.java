package dev.txstep.spring;

import dev.txstep.reactor.IdempotencyKeyWebFilter;
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
 * off when the application defines its own filter (to set a key scope, say).
 */
@AutoConfiguration
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
    IdempotencyKeyWebFilter txstepIdempotencyKeyWebFilter(TxstepProperties properties) {
        TxstepProperties.IdempotencyKey settings = properties.web().idempotencyKey();
        IdempotencyKeyWebFilter.Builder builder = IdempotencyKeyWebFilter.builder();
        PropertyErrors.set("txstep.web.idempotency-key.header-name", settings.headerName(), builder::headerName);
        PropertyErrors.set("txstep.web.idempotency-key.workflow-id-prefix", settings.workflowIdPrefix(),
                builder::workflowIdPrefix);
        return builder.build();
    }
}
