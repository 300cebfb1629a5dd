package dev.txstep.spring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.txstep.AsyncDatasource;
import dev.txstep.DatasourceOptions;
import dev.txstep.reactor.IdempotencyKeyWebFilter;
import dev.txstep.testing.Concurrently;
import dev.txstep.testing.TestDatabases;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.annotation.Bean;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.reactive.server.WebTestClient;
import org.springframework.web.reactive.function.server.RouterFunction;
import org.springframework.web.reactive.function.server.RouterFunctions;
import org.springframework.web.reactive.function.server.ServerResponse;

/**
 * A WebFlux application as a user writes it with the starter: only {@code spring.r2dbc.url},
 * {@code txstep.schema} and {@code txstep.web.idempotency-key.enabled} are set, and the handler
 * injects the {@link AsyncDatasource}. Ten identical POSTs with one Idempotency-Key, sent at once
 * to a real server on the real PostgreSQL, make one order row.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {"txstep.web.idempotency-key.enabled=true", "management.endpoint.health.show-components=always"})
@DirtiesContext // closes the application, and with it the datasource and Spring's pool
class IdempotencyKeyApplicationTest {

    private static final String URL = TestDatabases.postgresR2dbcUrl();
    private static final String SCHEMA = TestDatabases.uniqueSchema("starter_web");
    private static final int CLIENTS = 10;

    @DynamicPropertySource
    static void database(DynamicPropertyRegistry registry) {
        registry.add("spring.r2dbc.url", () -> URL);
        registry.add("txstep.schema", () -> SCHEMA);
    }

    @AfterAll
    static void dropSchema() {
        TestDatabases.exec(URL, "DROP SCHEMA IF EXISTS \"" + SCHEMA + "\" CASCADE");
    }

    @LocalServerPort
    private int port;

    @Autowired
    private AsyncDatasource datasource;

    @Test
    void tenConcurrentPostsWithOneKeyMakeOneOrderAndGetOneAnswer() throws Exception {
        WebTestClient client = client();
        String key = UUID.randomUUID().toString();

        List<String> bodies = Concurrently.run(CLIENTS, () -> client.post().uri("/orders")
                .header(IdempotencyKeyWebFilter.DEFAULT_HEADER_NAME, key)
                .exchange().expectStatus().isOk()
                .expectBody(String.class).returnResult().getResponseBody());

        assertEquals(1, Set.copyOf(bodies).size(), "ten identical answers: " + Set.copyOf(bodies));
        assertEquals(1, TestDatabases.queryLong(URL, "SELECT COUNT(*) FROM \"" + SCHEMA + "\".orders"), "one effect");
        assertEquals(2, TestDatabases.queryLong(URL, "SELECT COUNT(*) FROM \"" + SCHEMA + "\".datasource_outputs"
                + " WHERE workflow_id = '" + IdempotencyKeyWebFilter.DEFAULT_WORKFLOW_ID_PREFIX + key + "'"),
                "the auto-configured filter recorded the fingerprint (step 0), then the order");
        assertEquals(bodies.get(0), String.valueOf(TestDatabases.queryLong(URL,
                "SELECT id FROM \"" + SCHEMA + "\".orders")), "the answer is the order's id");
        // The same key with another body: the fingerprint differs, nothing runs.
        client.post().uri("/orders").header(IdempotencyKeyWebFilter.DEFAULT_HEADER_NAME, key)
                .bodyValue("other").exchange().expectStatus().isEqualTo(422);
        assertEquals(1, TestDatabases.queryLong(URL, "SELECT COUNT(*) FROM \"" + SCHEMA + "\".orders"));
    }

    @Test
    void theHealthEndpointShowsTxstepUp() {
        client().get().uri("/actuator/health").exchange().expectStatus().isOk()
                .expectBody(String.class).value(body -> assertTrue(
                        body.replace(" ", "").contains("\"txstep\":{\"status\":\"UP\""), body));
        assertEquals(SCHEMA, datasource.schema());
    }

    private WebTestClient client() {
        return WebTestClient.bindToServer().baseUrl("http://localhost:" + port)
                .responseTimeout(Duration.ofSeconds(60)).build();
    }

    /** The application: one endpoint that places an order in one transaction step. */
    @SpringBootConfiguration(proxyBeanMethods = false)
    @EnableAutoConfiguration
    static class OrderApplication {

        /** The orders table, created through the injected datasource once it is ready. */
        @Bean
        RouterFunction<ServerResponse> orderRoutes(AsyncDatasource datasource) {
            String orders = "\"" + datasource.schema() + "\".orders";
            datasource.runTxStepAsync(session -> session.execute(
                    "CREATE TABLE IF NOT EXISTS " + orders + " (id BIGSERIAL PRIMARY KEY)")).block();
            return RouterFunctions.route()
                    .POST("/orders", request -> datasource
                            .runTxStepAsync(DatasourceOptions.named("place-order"), Long.class, session -> session
                                    .query("INSERT INTO " + orders + " DEFAULT VALUES RETURNING id",
                                            (row, meta) -> row.get(0, Long.class)).single())
                            .flatMap(id -> ServerResponse.ok().bodyValue(String.valueOf(id))))
                    .build();
        }
    }
}
