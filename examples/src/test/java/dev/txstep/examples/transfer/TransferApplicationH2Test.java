package dev.txstep.examples.transfer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.txstep.AsyncDatasource;
import dev.txstep.DatasourceClosedException;
import dev.txstep.DatasourceOptions;
import dev.txstep.reactor.IdempotencyKeyWebFilter;
import dev.txstep.testing.TestDatabases;
import java.time.Duration;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringApplication;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.http.MediaType;
import org.springframework.test.web.reactive.server.WebTestClient;
import org.springframework.web.reactive.function.client.WebClient;
import reactor.core.publisher.Flux;

/**
 * The service as it runs by default, started the way {@code main} starts it: embedded H2, schema
 * {@code transfer}, the default accounts {@code alice} and {@code bob}, the port and the in-memory
 * database's name being the only settings given (so the database starts empty). Closing the
 * application closes the txstep datasource. The 20 identical requests are in flight together through a reactive
 * {@link WebClient} (a non-2xx answer fails the test); rows are counted over JDBC in the same JVM.
 */
class TransferApplicationH2Test {

    private static final String URL = "r2dbc:h2:mem:///transfer_" + UUID.randomUUID().toString().replace("-", "");

    @Test
    void onTheDefaultsConcurrentRetriesMoveTheMoneyOnce() {
        AsyncDatasource ds;
        try (ConfigurableApplicationContext app = SpringApplication.run(TransferApplication.class,
                "--server.port=0", "--transfer.url=" + URL)) {
            ds = app.getBean(AsyncDatasource.class);
            transferTwentyTimesAtOnceAndOnceMore(app.getEnvironment().getRequiredProperty("local.server.port", int.class));
        }
        assertThrows(DatasourceClosedException.class,
                () -> ds.runTxStepAsync(DatasourceOptions.named("afterClose"), tx -> tx.execute("SELECT 1")).block(),
                "closing the application closed the datasource");
    }

    private void transferTwentyTimesAtOnceAndOnceMore(int port) {
        WebTestClient client = WebTestClient.bindToServer().baseUrl("http://localhost:" + port)
                .responseTimeout(Duration.ofSeconds(60)).build();
        String key = UUID.randomUUID().toString();
        String json = "{\"from\":\"alice\",\"to\":\"bob\",\"amount\":2500}";

        WebClient web = WebClient.create("http://localhost:" + port);
        Set<String> bodies = Flux.range(0, 20)
                .flatMap(i -> web.post().uri("/transfers")
                        .header(IdempotencyKeyWebFilter.DEFAULT_HEADER_NAME, key)
                        .contentType(MediaType.APPLICATION_JSON)
                        .bodyValue(json)
                        .retrieve()
                        .bodyToMono(String.class), 20) // all 20 in flight at once
                .collect(Collectors.toSet())
                .block(Duration.ofSeconds(120));
        String other = post(client, UUID.randomUUID().toString(), json);

        assertEquals(1, bodies.size(), "identical bodies: " + bodies);
        assertNotEquals(bodies.iterator().next(), other, "another key, another transfer");
        assertEquals(100_000 - 2 * 2500, count("SELECT balance FROM transfer.accounts WHERE id = 'alice'"));
        assertEquals(100_000 + 2 * 2500, count("SELECT balance FROM transfer.accounts WHERE id = 'bob'"));
        assertEquals(4, count("SELECT COUNT(*) FROM transfer.ledger"), "two debits, two credits");
        assertEquals(2, count("SELECT COUNT(*) FROM \"transfer\".datasource_outputs WHERE workflow_id = '"
                + IdempotencyKeyWebFilter.DEFAULT_WORKFLOW_ID_PREFIX + key + "'"), "the fingerprint and the transfer");
    }

    private static String post(WebTestClient client, String key, String json) {
        return client.post().uri("/transfers")
                .header(IdempotencyKeyWebFilter.DEFAULT_HEADER_NAME, key)
                .contentType(MediaType.APPLICATION_JSON)
                .bodyValue(json)
                .exchange()
                .expectStatus().isOk()
                .expectBody(String.class).returnResult().getResponseBody();
    }

    private static long count(String sql) {
        return TestDatabases.queryLong(URL, sql);
    }
}
