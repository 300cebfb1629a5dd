package dev.txstep.examples.transfer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.txstep.reactor.IdempotencyKeyWebFilter;
import dev.txstep.testing.Concurrently;
import dev.txstep.testing.TestDatabases;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.http.MediaType;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.reactive.server.WebTestClient;
import org.springframework.web.reactive.function.client.WebClient;

/**
 * The transfer service on a real server (random port) and real PostgreSQL, driven over HTTP with
 * {@link WebTestClient} and checked by counting ledger rows, reading balances and counting
 * txstep's recorded steps over JDBC. Each test opens its own two accounts, so the tests do not
 * depend on each other; the schema is this class's own and is dropped at the end.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@DirtiesContext // closes the application (and its connection pool) after this class
class TransferApplicationTest {

    private static final String URL = TestDatabases.postgresR2dbcUrl();
    private static final String SCHEMA = TestDatabases.uniqueSchema("transfer");
    private static final int CLIENTS = 20;

    @DynamicPropertySource
    static void database(DynamicPropertyRegistry registry) {
        registry.add("transfer.url", () -> URL);
        registry.add("transfer.schema", () -> SCHEMA);
    }

    @AfterAll
    static void dropSchema() {
        TestDatabases.exec(URL, "DROP SCHEMA IF EXISTS \"" + SCHEMA + "\" CASCADE");
    }

    @LocalServerPort
    private int port;

    private WebTestClient client;
    private String from;
    private String to;

    @BeforeEach
    void setUp() {
        client = WebTestClient.bindToServer().baseUrl("http://localhost:" + port)
                .responseTimeout(Duration.ofSeconds(60)).build();
        from = "from-" + UUID.randomUUID();
        to = "to-" + UUID.randomUUID();
        TestDatabases.exec(URL, "INSERT INTO " + table("accounts") + " VALUES ('" + from + "', 10000), ('" + to + "', 0)");
    }

    @Test
    void twentyConcurrentRetriesOfOneTransferMoveTheMoneyOnceAndAllGetTheSameBody() throws Exception {
        String key = UUID.randomUUID().toString();
        String json = body(from, to, 2500);

        List<String> bodies = Concurrently.run(CLIENTS, () -> post(key, json).expectStatus().isOk()
                .expectBody(String.class).returnResult().getResponseBody());

        assertEquals(1, Set.copyOf(bodies).size(), "20 identical bodies: " + Set.copyOf(bodies));
        String transferId = new ObjectMapper().readTree(bodies.get(0)).get("id").asText();
        assertEquals(1, count("ledger", "transfer_id = '" + transferId + "' AND account_id = '" + from
                + "' AND amount = -2500"), "one debit");
        assertEquals(1, count("ledger", "transfer_id = '" + transferId + "' AND account_id = '" + to
                + "' AND amount = 2500"), "one credit");
        assertEquals(2, count("ledger", "account_id IN ('" + from + "', '" + to + "')"), "nothing else");
        assertEquals(7500, balance(from));
        assertEquals(2500, balance(to));
        assertEquals(1, count("datasource_outputs", "workflow_id = '" + workflowId(key) + "' AND step_id = 0 AND step_name = '"
                + IdempotencyKeyWebFilter.FINGERPRINT_STEP_NAME + "'"), "the request's fingerprint, recorded first");
        assertEquals(1, count("datasource_outputs", "workflow_id = '" + workflowId(key)
                + "' AND step_id = 1 AND step_name = 'transfer' AND error IS NULL"), "one recorded transfer");
        assertTrue(bodies.get(0).contains("\"fromBalance\":7500") && bodies.get(0).contains("\"toBalance\":2500"),
                bodies.get(0));
    }

    @Test
    void aDifferentKeyIsASecondTransfer() {
        String first = post(UUID.randomUUID().toString(), body(from, to, 1000)).expectStatus().isOk()
                .expectBody(String.class).returnResult().getResponseBody();
        String second = post(UUID.randomUUID().toString(), body(from, to, 1000)).expectStatus().isOk()
                .expectBody(String.class).returnResult().getResponseBody();

        assertNotEquals(first, second);
        assertEquals(2, count("ledger", "account_id = '" + from + "' AND amount = -1000"), "two debits");
        assertEquals(2, count("ledger", "account_id = '" + to + "' AND amount = 1000"), "two credits");
        assertEquals(8000, balance(from));
        assertEquals(2000, balance(to));
    }

    @Test
    void aRefusalIsRecordedAndAnsweredAgainWithoutRunningAgain() {
        String key = UUID.randomUUID().toString();
        for (int attempt = 0; attempt < 2; attempt++) {
            post(key, body(from, to, 10001)).expectStatus().isEqualTo(422)
                    .expectHeader().contentType(MediaType.APPLICATION_PROBLEM_JSON)
                    .expectBody(String.class).value(b -> assertTrue(b.contains("insufficient funds"), b));
        }
        // Topping the account up does not change the answer for this key: its outcome is recorded.
        TestDatabases.exec(URL, "UPDATE " + table("accounts") + " SET balance = 20000 WHERE id = '" + from + "'");
        post(key, body(from, to, 10001)).expectStatus().isEqualTo(422);

        assertEquals(0, count("ledger", "account_id IN ('" + from + "', '" + to + "')"));
        assertEquals(0, balance(to));
        assertEquals(1, count("datasource_outputs", "workflow_id = '" + workflowId(key) + "' AND error IS NOT NULL"));
    }

    @Test
    void aKeyReusedForAnotherTransferIsRefused() {
        String key = UUID.randomUUID().toString();
        post(key, body(from, to, 100)).expectStatus().isOk();
        post(key, body(from, to, 200)).expectStatus().isEqualTo(422)
                .expectBody(String.class).value(b -> assertTrue(b.contains("different request"), b));
        assertEquals(1, count("ledger", "account_id = '" + from + "'"));
        assertEquals(9900, balance(from));
    }

    @Test
    void requestsWithoutAKeyOrWithAnInvalidBodyMoveNothing() {
        client.post().uri("/transfers").contentType(MediaType.APPLICATION_JSON).bodyValue(body(from, to, 100))
                .exchange().expectStatus().isBadRequest()
                .expectBody(String.class).value(b -> assertTrue(b.contains("Idempotency-Key"), b));
        post(UUID.randomUUID().toString(), body(from, from, 100)).expectStatus().isBadRequest();
        post(UUID.randomUUID().toString(), body(from, to, -5)).expectStatus().isBadRequest();
        post(UUID.randomUUID().toString(), "{\"from\": ").expectStatus().isBadRequest();
        // Refused by the filter, before the handler (a key longer than a workflow id can hold).
        post("k".repeat(2000), body(from, to, 100)).expectStatus().isBadRequest()
                .expectBody(String.class).value(b -> assertTrue(b.contains("characters long"), b));
        post(UUID.randomUUID().toString(), body(from, "nobody-" + UUID.randomUUID(), 100))
                .expectStatus().isEqualTo(422);

        assertEquals(10000, balance(from), "the failed credit rolled the debit back");
        assertEquals(0, count("ledger", "account_id = '" + from + "'"));
        client.get().uri("/accounts/{id}", from).exchange().expectStatus().isOk()
                .expectBody(String.class).value(b -> assertTrue(b.contains("\"balance\":10000"), b));
    }

    @Test
    void aKeyFirstRefusedAndReusedWithAValidBodyIs422NotTheOldRefusal() {
        String key = UUID.randomUUID().toString();
        post(key, body(from, "nobody-" + UUID.randomUUID(), 100)).expectStatus().isEqualTo(422)
                .expectBody(String.class).value(b -> assertTrue(b.contains("no account"), b));
        post(key, body(from, to, 100)).expectStatus().isEqualTo(422)
                .expectBody(String.class).value(b -> assertTrue(b.contains("different request"), b));
        assertEquals(10000, balance(from));
    }

    @Test
    void aNulInAnAccountIdIs400NamingTheFieldAndNeverRecordedAsAnOutcome() {
        String key = UUID.randomUUID().toString();
        for (int attempt = 0; attempt < 2; attempt++) {
            post(key, "{\"from\":\"" + from + "\\u0000\",\"to\":\"" + to + "\",\"amount\":100}")
                    .expectStatus().isBadRequest()
                    .expectHeader().contentType(MediaType.APPLICATION_PROBLEM_JSON)
                    .expectBody(String.class).value(b -> assertTrue(b.contains("'from'"), b));
        }
        assertEquals(0, count("datasource_outputs", "workflow_id = '" + workflowId(key) + "' AND error IS NOT NULL"),
                "no error recorded for the key");
        assertEquals(10000, balance(from));
    }

    @Test
    void amountsThatAreNotJsonIntegersAndDuplicateFieldsAre400NamingTheField() {
        for (String amount : List.of("\"100\"", "1.5", "1e2", "100.0", "true", "null", "99999999999999999999")) {
            post(UUID.randomUUID().toString(), "{\"from\":\"" + from + "\",\"to\":\"" + to + "\",\"amount\":"
                    + amount + "}").expectStatus().isBadRequest()
                    .expectHeader().contentType(MediaType.APPLICATION_PROBLEM_JSON)
                    .expectBody(String.class).value(b -> assertTrue(b.contains("'amount'"), amount + ": " + b));
        }
        post(UUID.randomUUID().toString(), "{\"from\":\"" + from + "\",\"to\":\"" + to
                + "\",\"amount\":100,\"amount\":200}").expectStatus().isBadRequest()
                .expectBody(String.class).value(b -> assertTrue(b.contains("'amount'") && b.contains("uplicate"), b));
        post(UUID.randomUUID().toString(), "{\"from\":\"" + from + "\",\"to\":\"" + to
                + "\",\"amount\":100,\"memo\":\"x\"}").expectStatus().isBadRequest()
                .expectBody(String.class).value(b -> assertTrue(b.contains("'memo'"), b));
        assertEquals(10000, balance(from), "nothing moved");
        assertEquals(0, count("ledger", "account_id = '" + from + "'"));
    }

    @Test
    void wrongRoutesMethodsMediaTypesAndSizesAreAnsweredAsProblems() {
        client.get().uri("/nowhere").exchange().expectStatus().isNotFound()
                .expectHeader().contentType(MediaType.APPLICATION_PROBLEM_JSON);
        client.get().uri("/transfers").exchange().expectStatus().isEqualTo(405)
                .expectHeader().valueEquals("Allow", "POST")
                .expectHeader().contentType(MediaType.APPLICATION_PROBLEM_JSON);
        client.post().uri("/transfers").header(IdempotencyKeyWebFilter.DEFAULT_HEADER_NAME, UUID.randomUUID().toString())
                .contentType(MediaType.TEXT_PLAIN).bodyValue(body(from, to, 100)).exchange()
                .expectStatus().isEqualTo(415)
                .expectHeader().contentType(MediaType.APPLICATION_PROBLEM_JSON);
        post(UUID.randomUUID().toString(), "{\"from\":\"" + "x".repeat(300_000) + "\"}").expectStatus().isEqualTo(413)
                .expectHeader().contentType(MediaType.APPLICATION_PROBLEM_JSON);
        post("cl\u00e9", body(from, to, 100)).expectStatus().isBadRequest()
                .expectBody(String.class).value(b -> assertTrue(b.contains("printable ASCII"), b));
        assertEquals(10000, balance(from));
    }

    @Test
    void aTransferLocksItsAccountsInIdOrder() throws Exception {
        // "a-…" sorts before "b-…". Hold "a" locked, then transfer b -> a: a transfer that locks in id
        // order waits for "a" before touching "b"; one that debits first would hold "b" while waiting.
        String a = "a-" + UUID.randomUUID();
        String b = "b-" + UUID.randomUUID();
        TestDatabases.exec(URL, "INSERT INTO " + table("accounts") + " VALUES ('" + a + "', 0), ('" + b + "', 500)");
        try (var holder = TestDatabases.jdbc(URL); var probe = TestDatabases.jdbc(URL)) {
            holder.setAutoCommit(false);
            holder.createStatement().execute("SELECT 1 FROM " + table("accounts") + " WHERE id = '" + a + "' FOR UPDATE");
            var response = WebClient.create("http://localhost:" + port).post().uri("/transfers")
                    .header(IdempotencyKeyWebFilter.DEFAULT_HEADER_NAME, UUID.randomUUID().toString())
                    .contentType(MediaType.APPLICATION_JSON).bodyValue(body(b, a, 100))
                    .retrieve().toBodilessEntity().toFuture();
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (TestDatabases.queryLong(URL, "SELECT COUNT(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                    + " AND query LIKE '%" + SCHEMA + "%accounts%'") == 0) {
                assertTrue(System.nanoTime() < deadline, "the transfer never waited for the lock on " + a);
                Thread.sleep(20);
            }
            probe.setAutoCommit(false);
            // Fails with 55P03 (lock not available) if the transfer already holds "b".
            probe.createStatement().execute("SET LOCAL lock_timeout = '100ms'");
            probe.createStatement().execute("SELECT 1 FROM " + table("accounts") + " WHERE id = '" + b + "' FOR UPDATE");
            probe.rollback();
            holder.rollback();
            assertEquals(200, response.get(30, java.util.concurrent.TimeUnit.SECONDS).getStatusCode().value());
        }
        assertEquals(100, balance(a));
        assertEquals(400, balance(b));
    }

    private WebTestClient.ResponseSpec post(String key, String json) {
        return client.post().uri("/transfers")
                .header(IdempotencyKeyWebFilter.DEFAULT_HEADER_NAME, key)
                .contentType(MediaType.APPLICATION_JSON)
                .bodyValue(json)
                .exchange();
    }

    private static String body(String from, String to, long amount) {
        return "{\"from\":\"" + from + "\",\"to\":\"" + to + "\",\"amount\":" + amount + "}";
    }

    private static String workflowId(String key) {
        return IdempotencyKeyWebFilter.DEFAULT_WORKFLOW_ID_PREFIX + key;
    }

    private static long count(String table, String condition) {
        return TestDatabases.queryLong(URL, "SELECT COUNT(*) FROM " + table(table) + " WHERE " + condition);
    }

    private static long balance(String account) {
        return TestDatabases.queryLong(URL, "SELECT balance FROM " + table("accounts") + " WHERE id = '" + account + "'");
    }

    private static String table(String name) {
        return "\"" + SCHEMA + "\"." + name;
    }
}
