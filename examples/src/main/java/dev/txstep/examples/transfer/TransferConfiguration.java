package dev.txstep.examples.transfer;

import dev.txstep.AsyncDatasource;
import java.time.Duration;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.web.server.context.WebServerInitializedEvent;
import org.springframework.context.ApplicationListener;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.data.r2dbc.convert.R2dbcCustomConversions;
import org.springframework.data.r2dbc.core.R2dbcEntityTemplate;
import org.springframework.data.r2dbc.mapping.R2dbcMappingContext;
import org.springframework.http.HttpMethod;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.web.reactive.function.server.RequestPredicates;
import org.springframework.web.reactive.function.server.RouterFunction;
import org.springframework.web.reactive.function.server.RouterFunctions;
import org.springframework.web.reactive.function.server.ServerResponse;

/**
 * Wires the service the Spring way: txstep's starter provides the datasource (over Spring Boot's
 * R2DBC pool, {@code spring.r2dbc.*}, which {@code application.properties} derives from
 * {@code transfer.*}) and the Idempotency-Key filter ({@code txstep.web.idempotency-key.enabled});
 * Spring Data R2DBC provides the repository and the entity template, and the starter makes them run
 * inside the {@code @TxStep} method's transaction.
 *
 * <p>The application waits in one place only, on Spring's own thread and never on an event loop:
 * at start-up, for the tables to exist before the server accepts a request (as Spring Boot's own
 * database initializers do).
 */
@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties(TransferProperties.class)
class TransferConfiguration {

    private static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(60);

    /** Spring Data's mapping: the entities' tables in {@code transfer.schema}, names quoted. */
    @Bean
    R2dbcMappingContext r2dbcMappingContext(TransferProperties properties, R2dbcCustomConversions conversions) {
        R2dbcMappingContext context = TransferTables.mappingContext(properties.schema());
        context.setSimpleTypeHolder(conversions.getSimpleTypeHolder());
        return context;
    }

    /**
     * The service, after its tables exist and the opening balances are in. The datasource is
     * injected so that it exists first: its start-up creates the schema the tables go in.
     */
    @Bean
    TransferService transferService(AccountRepository accounts, R2dbcEntityTemplate template, DatabaseClient client,
            AsyncDatasource datasource, TransferProperties properties) {
        TransferTables.create(client, properties.schema(), properties.openingBalances()).block(STARTUP_TIMEOUT);
        return new TransferService(accounts, template);
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
}
