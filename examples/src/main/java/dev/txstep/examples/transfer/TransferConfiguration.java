package dev.txstep.examples.transfer;

import dev.txstep.AsyncDatasource;
import dev.txstep.DatasourceConfig;
import dev.txstep.reactor.IdempotencyKeyWebFilter;
import java.time.Duration;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.web.server.context.WebServerInitializedEvent;
import org.springframework.context.ApplicationListener;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.http.HttpMethod;
import org.springframework.web.reactive.function.server.RequestPredicates;
import org.springframework.web.reactive.function.server.RouterFunction;
import org.springframework.web.reactive.function.server.RouterFunctions;
import org.springframework.web.reactive.function.server.ServerResponse;

/**
 * Wires the service: the txstep datasource, the tables, the routes and the idempotency filter.
 *
 * <p>The application waits in two places only, both on Spring's own thread and never on an event
 * loop: at start-up, for the datasource and the tables to be ready before the server accepts a
 * request (as Spring Boot's own database initializers do), and at shutdown, for the pool to close.
 */
@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties(TransferProperties.class)
class TransferConfiguration {

    private static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(60);

    /**
     * The txstep datasource. Creating it builds the connection pool and installs
     * {@code datasource_outputs} in the configured schema. {@code close()} returns a {@code Mono};
     * Spring subscribes to a destroy method's publisher and waits for it.
     */
    @Bean(destroyMethod = "close")
    AsyncDatasource transferDatasource(TransferProperties properties) {
        DatasourceConfig config = DatasourceConfig.builder()
                .url(properties.url())
                .schema(properties.schema())
                .maxPoolSize(properties.maxPoolSize())
                .build();
        return AsyncDatasource.create(config).block(STARTUP_TIMEOUT);
    }

    /** The service, after its tables exist and the opening balances are in. */
    @Bean
    TransferService transferService(AsyncDatasource transferDatasource, TransferProperties properties) {
        TransferService service = new TransferService(transferDatasource, properties.schema());
        service.createTables(properties.openingBalances()).block(STARTUP_TIMEOUT);
        return service;
    }

    /**
     * {@code POST /transfers} and {@code GET /accounts/{id}}; other methods on those paths get 405
     * (a router function otherwise answers 404 for them).
     */
    @Bean
    RouterFunction<ServerResponse> transferRoutes(TransferService transferService) {
        TransferHandler handler = new TransferHandler(transferService);
        return RouterFunctions.route()
                .POST("/transfers", handler::transfer)
                .route(RequestPredicates.path("/transfers"), TransferHandler.methodNotAllowed(HttpMethod.POST))
                .GET("/accounts/{id}", handler::account)
                .route(RequestPredicates.path("/accounts/{id}"), TransferHandler.methodNotAllowed(HttpMethod.GET))
                .build();
    }

    /**
     * Says where the service listens, on standard output: the one-command run ({@code mvn -q ...})
     * silences log output, and this is the line a person running it needs.
     */
    @Bean
    ApplicationListener<WebServerInitializedEvent> announceAddress(TransferProperties properties) {
        String database = properties.url().replaceAll("//[^/@]*@", "//"); // no credentials on the console
        return event -> System.out.println("Transfer service listening on http://localhost:"
                + event.getWebServer().getPort() + " (database " + database + ", schema " + properties.schema() + ")");
    }

    /**
     * Makes every POST or PATCH with an {@code Idempotency-Key} a workflow named after the key,
     * whose first step records the request's fingerprint on the service's datasource (a key reused
     * for a different body gets 422). Spring Boot adds {@code WebFilter} beans to the server's
     * filter chain.
     */
    @Bean
    IdempotencyKeyWebFilter idempotencyKeyWebFilter(AsyncDatasource transferDatasource) {
        return IdempotencyKeyWebFilter.create(transferDatasource);
    }
}
