package dev.txstep.examples.readme;

import dev.txstep.AsyncDatasource;
import dev.txstep.reactor.IdempotencyKeyWebFilter;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** The README's "Idempotent HTTP requests" snippet: a bean method of the application's configuration. */
@Configuration(proxyBeanMethods = false)
class WebFluxSnippet {

    // README begin
    @Bean   // Spring Boot adds WebFilter beans to the server's chain
    IdempotencyKeyWebFilter idempotencyKeyWebFilter(AsyncDatasource ds) {
        return IdempotencyKeyWebFilter.create(ds);   // create() without a datasource: no fingerprints
    }
    // README end
}
