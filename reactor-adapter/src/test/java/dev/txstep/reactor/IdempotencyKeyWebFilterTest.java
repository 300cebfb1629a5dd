package dev.txstep.reactor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.springframework.web.reactive.function.server.RequestPredicates.GET;
import static org.springframework.web.reactive.function.server.RequestPredicates.POST;
import static org.springframework.web.reactive.function.server.RouterFunctions.route;

import dev.txstep.AsyncDatasource;
import dev.txstep.DatasourceConfig;
import dev.txstep.DatasourceOptions;
import dev.txstep.InvalidConfigurationException;
import dev.txstep.RetryPolicy;
import dev.txstep.StepKey;
import dev.txstep.testing.Concurrently;
import dev.txstep.testing.TestDatabases;
import dev.txstep.testing.TestSchema;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.http.HttpMethod;
import org.springframework.http.MediaType;
import org.springframework.test.web.reactive.server.WebTestClient;
import org.springframework.web.reactive.function.server.RouterFunction;
import org.springframework.web.reactive.function.server.RouterFunctions;
import org.springframework.web.reactive.function.server.ServerResponse;
import reactor.core.publisher.Mono;

/**
 * {@link IdempotencyKeyWebFilter} in front of functional endpoints, on real PostgreSQL, checked by
 * counting the handlers' effect rows and the recorded steps: a key makes a retried request replay,
 * no key changes nothing, a bad key runs nothing.
 */
class IdempotencyKeyWebFilterTest {

    private static final String KEY = IdempotencyKeyWebFilter.DEFAULT_HEADER_NAME;

    private TestSchema schema;
    private AsyncDatasource ds;

    @BeforeEach
    void setUp() {
        String url = TestDatabases.postgresR2dbcUrl();
        schema = new TestSchema(url, TestDatabases.uniqueSchema("idem"));
        ds = AsyncDatasource.create(DatasourceConfig.builder().url(url).schema(schema.name()).build()).block();
        schema.exec("CREATE TABLE " + schema.q("effects") + " (id text PRIMARY KEY, step text NOT NULL)");
    }

    @AfterEach
    void tearDown() {
        ds.close().block(Duration.ofSeconds(30));
        schema.drop();
    }

    /** A step that writes one effect row with a fresh id and returns that id. */
    private Mono<String> effect(String stepName) {
        return ds.runTxStepAsync(DatasourceOptions.named(stepName), tx -> {
            String id = stepName + "-" + UUID.randomUUID();
            return tx.execute("INSERT INTO " + schema.q("effects") + " VALUES ($1, $2)", id, stepName).thenReturn(id);
        });
    }

    /** POST /orders: two steps, the body built from their outputs. Also /refunds and GET /orders. */
    private RouterFunction<ServerResponse> routes() {
        return route(POST("/orders"), request -> effect("reserve")
                        .zipWith(effect("charge"), (reserved, charged) -> reserved + "|" + charged)
                        .flatMap(body -> ServerResponse.ok().contentType(MediaType.TEXT_PLAIN).bodyValue(body)))
                .andRoute(POST("/refunds"), request -> effect("refund")
                        .flatMap(body -> ServerResponse.ok().contentType(MediaType.TEXT_PLAIN).bodyValue(body)))
                .andRoute(GET("/orders"), request -> effect("lookup")
                        .flatMap(body -> ServerResponse.ok().contentType(MediaType.TEXT_PLAIN).bodyValue(body)));
    }

    private WebTestClient client(IdempotencyKeyWebFilter filter) {
        return WebTestClient.bindToRouterFunction(routes()).webFilter(filter).configureClient()
                .responseTimeout(Duration.ofSeconds(60)).build();
    }

    private String post(WebTestClient client, String path, String... keys) {
        return client.post().uri(path).headers(h -> {
                    for (String key : keys) {
                        h.add(KEY, key);
                    }
                }).exchange()
                .expectStatus().isOk()
                .expectBody(String.class).returnResult().getResponseBody();
    }

    private long effects() {
        return schema.count("SELECT COUNT(*) FROM " + schema.q("effects"));
    }

    private long recorded() {
        return schema.count("SELECT COUNT(*) FROM " + schema.outputs());
    }

    private List<String> recordedSteps(String workflowId) {
        List<String> names = new ArrayList<>();
        try (var c = TestDatabases.jdbc(schema.url()); var st = c.prepareStatement("SELECT step_id, step_name FROM "
                + schema.outputs() + " WHERE workflow_id = ? ORDER BY step_id")) {
            st.setString(1, workflowId);
            var rs = st.executeQuery();
            while (rs.next()) {
                assertEquals(names.size(), rs.getInt(1), "step ids are 0..n-1");
                names.add(rs.getString(2));
            }
        } catch (java.sql.SQLException e) {
            throw new IllegalStateException(e);
        }
        return names;
    }

    @Test
    void sameKeyTwiceRunsTheStepsOnceAndAnswersTheSameBody() {
        IdempotencyKeyWebFilter filter = IdempotencyKeyWebFilter.create();
        WebTestClient client = client(filter);
        String key = UUID.randomUUID().toString();

        String first = post(client, "/orders", key);
        String retry = post(client, "/orders", key);

        assertEquals(first, retry, "the retry answers with the recorded outputs");
        assertEquals(2, effects(), "reserve and charge ran once each");
        assertEquals(List.of("reserve", "charge"), recordedSteps(filter.workflowIdFor(key)));
        assertEquals("idempotency-key:" + key, filter.workflowIdFor(key));
        assertEquals(2, recorded());
    }

    @Test
    void aQuotedKeyIsTheSameKeyAsItsBareForm() {
        IdempotencyKeyWebFilter filter = IdempotencyKeyWebFilter.create();
        WebTestClient client = client(filter);
        String first = post(client, "/orders", "\"k-1 \\\"quoted\\\"\"");
        String retry = post(client, "/orders", "k-1 \"quoted\"");
        assertEquals(first, retry);
        assertEquals(2, effects());
        assertEquals(List.of("reserve", "charge"), recordedSteps(filter.workflowIdFor("k-1 \"quoted\"")));
    }

    @Test
    void differentKeysAreDifferentRequests() {
        WebTestClient client = client(IdempotencyKeyWebFilter.create());
        String a = post(client, "/orders", "key-a");
        String b = post(client, "/orders", "key-b");
        assertNotEquals(a, b);
        assertEquals(4, effects());
        assertEquals(4, recorded());
    }

    @Test
    void withoutAKeyOrForAnotherMethodNothingIsRecorded() {
        WebTestClient client = client(IdempotencyKeyWebFilter.create());
        assertNotEquals(post(client, "/orders"), post(client, "/orders"));
        // GET is not one of the default methods: the header is ignored, the step runs every time.
        for (int i = 0; i < 2; i++) {
            client.get().uri("/orders").header(KEY, "same-key").exchange().expectStatus().isOk();
        }
        assertEquals(6, effects(), "two POSTs of two steps and two GETs, all run");
        assertEquals(0, recorded(), "plain transactions record nothing");
    }

    @Test
    void configuredMethodsAreTheOnesThatCount() {
        WebTestClient client = client(IdempotencyKeyWebFilter.builder().methods(HttpMethod.GET).build());
        for (int i = 0; i < 2; i++) {
            client.get().uri("/orders").header(KEY, "get-key").exchange().expectStatus().isOk();
        }
        post(client, "/orders", "post-key");
        assertEquals(1 + 2, effects(), "the GET ran once; the POST, no longer covered, ran");
        assertEquals(1, recorded());
    }

    @Test
    void badKeysAreRefusedWith400AndRunNothing() {
        IdempotencyKeyWebFilter filter = IdempotencyKeyWebFilter.create();
        WebTestClient client = client(filter);
        String tooLong = "k".repeat(filter.maxKeyLength() + 1);
        assertBadRequest(client, "must not be blank", "");
        assertBadRequest(client, "must not be blank", "   ");
        assertBadRequest(client, "must not be blank", "\"\"");
        assertBadRequest(client, "printable ASCII", "ab\u0001c");
        assertBadRequest(client, "printable ASCII", "ab\u007fc");
        assertBadRequest(client, "not a valid quoted string", "\"unterminated");
        assertBadRequest(client, "not a valid quoted string", "\"bad \\x escape\"");
        assertBadRequest(client, "exactly one", "a", "b");
        assertBadRequest(client, "is " + tooLong.length() + " characters long; at most " + filter.maxKeyLength(),
                tooLong);
        assertEquals(0, effects(), "no handler ran");
        assertEquals(0, recorded(), "no step was recorded");

        // The longest accepted key is accepted: the limit is exactly the workflow id's.
        String longest = "k".repeat(filter.maxKeyLength());
        post(client, "/orders", longest);
        assertEquals(StepKey.MAX_WORKFLOW_ID_LENGTH, filter.workflowIdFor(longest).length());
        assertEquals(List.of("reserve", "charge"), recordedSteps(filter.workflowIdFor(longest)));
    }

    private static void assertBadRequest(WebTestClient client, String detail, String... keys) {
        client.post().uri("/orders").headers(h -> {
                    for (String key : keys) {
                        h.add(KEY, key);
                    }
                }).exchange()
                .expectStatus().isBadRequest()
                .expectHeader().contentType(MediaType.APPLICATION_PROBLEM_JSON)
                .expectBody(String.class).value(body -> assertTrue(body.contains(detail)
                        && body.contains("\"status\":400"), body));
    }

    @Test
    void aKeyReusedOnAnEndpointWithOtherStepsIs422AndRunsNothing() {
        WebTestClient client = client(IdempotencyKeyWebFilter.create());
        post(client, "/orders", "reused");
        client.post().uri("/refunds").header(KEY, "reused").exchange()
                .expectStatus().isEqualTo(422)
                .expectHeader().contentType(MediaType.APPLICATION_PROBLEM_JSON)
                .expectBody(String.class).value(body -> assertTrue(body.contains("already used"), body));
        assertEquals(2, effects(), "the refund step did not run");
        assertEquals(2, recorded());
    }

    @Test
    void aKeyScopeSeparatesEqualKeysOfDifferentScopes() {
        IdempotencyKeyWebFilter filter = IdempotencyKeyWebFilter.builder()
                .keyScope(exchange -> Mono.justOrEmpty(exchange.getRequest().getHeaders().getFirst("X-Tenant")))
                .build();
        WebTestClient client = client(filter);
        String a = client.post().uri("/orders").header(KEY, "k").header("X-Tenant", "acme:eu").exchange()
                .expectStatus().isOk().expectBody(String.class).returnResult().getResponseBody();
        String b = client.post().uri("/orders").header(KEY, "k").header("X-Tenant", "globex").exchange()
                .expectStatus().isOk().expectBody(String.class).returnResult().getResponseBody();
        String aAgain = client.post().uri("/orders").header(KEY, "k").header("X-Tenant", "acme:eu").exchange()
                .expectStatus().isOk().expectBody(String.class).returnResult().getResponseBody();
        String unscoped = post(client, "/orders", "k");

        assertNotEquals(a, b);
        assertEquals(a, aAgain);
        assertNotEquals(a, unscoped);
        assertEquals(6, effects(), "three scopes, two steps each; the repeat replayed");
        assertEquals("idempotency-key:acme%3Aeu:k", filter.workflowIdFor("acme:eu", "k"));
        assertEquals(List.of("reserve", "charge"), recordedSteps("idempotency-key:acme%3Aeu:k"));
        assertEquals(List.of("reserve", "charge"), recordedSteps("idempotency-key::k"));
        assertEquals(filter.workflowIdFor("k"), filter.workflowIdFor("", "k"));
    }

    @Test
    void theHandlerFilterCoversStepsSubscribedWhileTheBodyIsWritten() {
        IdempotencyKeyWebFilter filter = IdempotencyKeyWebFilter.builder().workflowIdPrefix("fn:").build();
        // The handler runs one step itself; a second step is the body publisher, which WebFlux
        // subscribes only when it writes the response, after the handler returned.
        RouterFunction<ServerResponse> routes = RouterFunctions.route()
                .POST("/fn", request -> effect("first").flatMap(first -> ServerResponse.ok()
                        .contentType(MediaType.TEXT_PLAIN)
                        .body(effect("second").map(second -> first + "|" + second), String.class)))
                .POST("/fn-other", request -> ServerResponse.ok().body(effect("other"), String.class))
                .filter(filter.handlerFilter())
                .build();
        WebTestClient client = WebTestClient.bindToRouterFunction(routes).configureClient()
                .responseTimeout(Duration.ofSeconds(60)).build();

        String first = post(client, "/fn", "fn-key");
        String retry = post(client, "/fn", "fn-key");

        assertEquals(first, retry);
        assertEquals(2, effects());
        assertEquals(List.of("first", "second"), recordedSteps("fn:fn-key"), "one execution, ids 0 and 1");
        client.post().uri("/fn").header(KEY, " ").exchange().expectStatus().isBadRequest();
        // The key replayed on a route whose body runs another step: refused while writing the body.
        client.post().uri("/fn-other").header(KEY, "fn-key").exchange().expectStatus().isEqualTo(422)
                .expectBody(String.class).value(body -> assertTrue(body.contains("already used"), body));
        assertEquals(2, effects());
        assertEquals(2, recorded());
    }

    // ---- Keys as the IETF draft defines them: an RFC 8941 string, printable ASCII 0x20-0x7E ----

    @Test
    void keysOutsidePrintableAsciiAreRefusedNamingTheRule() {
        WebTestClient client = client(IdempotencyKeyWebFilter.create());
        // What a server sees for "clé" sent as UTF-8 (bytes decoded one per character) and as text.
        assertBadRequest(client, "printable ASCII (0x20-0x7E)", "cl\u00c3\u00a9");
        assertBadRequest(client, "printable ASCII (0x20-0x7E)", "cl\u00e9");
        assertBadRequest(client, "printable ASCII (0x20-0x7E)", "\"cl\u00e9\"");
        assertEquals(0, effects());
        assertEquals(0, recorded());
    }

    @Test
    void aListOfKeysIsRefusedNotTakenAsOneKey() {
        WebTestClient client = client(IdempotencyKeyWebFilter.create());
        assertBadRequest(client, "a list", "k1, k2");
        assertBadRequest(client, "a list", "\"k1\", \"k2\"");
        assertBadRequest(client, "parameters", "\"k1\";p=1");
        assertEquals(0, effects());
        assertEquals(0, recorded());
        // Inside quotes a comma is part of the one key.
        post(client, "/orders", "\"k1, k2\"");
        assertEquals(List.of("reserve", "charge"), recordedSteps("idempotency-key:k1, k2"));
    }

    // ---- Unrecorded failures answer 503: the same key may be retried ----

    @Test
    void retriesRunningOutAnswer503WithRetryAfterAndTheSameKeyThenSucceeds() {
        AsyncDatasource flaky = AsyncDatasource.create(DatasourceConfig.builder().url(schema.url())
                .schema(schema.name()).retryPolicy(RetryPolicy.defaults().withMaxAttempts(2)).build()).block();
        try {
            AtomicBoolean conflicting = new AtomicBoolean(true);
            RouterFunction<ServerResponse> routes = route(POST("/flaky"), request -> flaky.runTxStepAsync(
                    DatasourceOptions.named("flaky"), tx -> conflicting.get()
                            // A real serialization failure, raised by PostgreSQL: retried, then given up.
                            ? tx.execute("DO $$ BEGIN RAISE EXCEPTION 'conflict' USING ERRCODE = '40001'; END $$")
                                    .thenReturn("never")
                            : tx.execute("INSERT INTO " + schema.q("effects") + " VALUES ('flaky', 'flaky')")
                                    .thenReturn("moved"))
                    .flatMap(body -> ServerResponse.ok().contentType(MediaType.TEXT_PLAIN).bodyValue(body)));
            WebTestClient client = WebTestClient.bindToRouterFunction(routes)
                    .webFilter(IdempotencyKeyWebFilter.create(ds)).configureClient()
                    .responseTimeout(Duration.ofSeconds(60)).build();

            client.post().uri("/flaky").header(KEY, "exhausted").exchange()
                    .expectStatus().isEqualTo(503)
                    .expectHeader().valueEquals("Retry-After", "1")
                    .expectHeader().contentType(MediaType.APPLICATION_PROBLEM_JSON)
                    .expectBody(String.class).value(body -> assertTrue(body.contains("nothing was recorded")
                            && body.contains("same Idempotency-Key may be retried"), body));
            assertEquals(0, effects());

            conflicting.set(false);
            client.post().uri("/flaky").header(KEY, "exhausted").exchange()
                    .expectStatus().isOk().expectBody(String.class).isEqualTo("moved");
            assertEquals(1, effects());
        } finally {
            flaky.close().block(Duration.ofSeconds(30));
        }
    }

    @Test
    void aClosedDatasourceAnswers503() {
        AsyncDatasource closed = AsyncDatasource.create(DatasourceConfig.builder().url(schema.url())
                .schema(schema.name()).build()).block();
        closed.close().block(Duration.ofSeconds(30));
        RouterFunction<ServerResponse> routes = route(POST("/closed"), request -> closed.runTxStepAsync(
                DatasourceOptions.named("closed"), tx -> Mono.just("x"))
                .flatMap(body -> ServerResponse.ok().bodyValue(body)));
        WebTestClient client = WebTestClient.bindToRouterFunction(routes)
                .webFilter(IdempotencyKeyWebFilter.create()).configureClient().build();
        client.post().uri("/closed").header(KEY, "closing").exchange()
                .expectStatus().isEqualTo(503)
                .expectHeader().exists("Retry-After")
                .expectBody(String.class).value(body -> assertTrue(body.contains("nothing was recorded"), body));
    }

    @Test
    void aRecordedErrorIsAFinalAnswerNot503() {
        RouterFunction<ServerResponse> routes = route(POST("/broken"), request -> ds.runTxStepAsync(
                DatasourceOptions.named("broken"), tx -> Mono.<String>error(new IllegalStateException("broken")))
                .flatMap(body -> ServerResponse.ok().bodyValue(body)));
        WebTestClient client = WebTestClient.bindToRouterFunction(routes)
                .webFilter(IdempotencyKeyWebFilter.create()).configureClient().build();
        for (int i = 0; i < 2; i++) {
            client.post().uri("/broken").header(KEY, "final").exchange().expectStatus().isEqualTo(500)
                    .expectHeader().doesNotExist("Retry-After");
        }
        assertEquals(List.of("broken"), recordedSteps("idempotency-key:final"));
    }

    // ---- Request fingerprints: a key reused for a different request is 422, before any step ----

    /** POST /pay: refuses the body "refuse" with a recorded error (422), else writes one effect. */
    private WebTestClient payClient(IdempotencyKeyWebFilter filter) {
        RouterFunction<ServerResponse> routes = route(POST("/pay"), request -> request.bodyToMono(String.class)
                .defaultIfEmpty("")
                .flatMap(body -> ds.runTxStepAsync(DatasourceOptions.named("pay"), tx -> body.equals("refuse")
                        ? Mono.<String>error(new IllegalArgumentException("refused"))
                        : tx.execute("INSERT INTO " + schema.q("effects") + " VALUES ($1, 'pay')",
                                "pay-" + UUID.randomUUID()).thenReturn("paid " + body)))
                .flatMap(body -> ServerResponse.ok().contentType(MediaType.TEXT_PLAIN).bodyValue(body))
                .onErrorResume(e -> ServerResponse.status(422).bodyValue("refused")));
        return WebTestClient.bindToRouterFunction(routes).webFilter(filter).configureClient()
                .responseTimeout(Duration.ofSeconds(60)).build();
    }

    private WebTestClient.ResponseSpec pay(WebTestClient client, String key, String body) {
        return client.post().uri("/pay").header(KEY, key).contentType(MediaType.TEXT_PLAIN).bodyValue(body).exchange();
    }

    private static void assertKeyReused(WebTestClient.ResponseSpec response) {
        response.expectStatus().isEqualTo(422)
                .expectHeader().contentType(MediaType.APPLICATION_PROBLEM_JSON)
                .expectBody(String.class).value(b -> assertTrue(b.contains("different request"), b));
    }

    @Test
    void aKeyFirstRefusedAndReusedWithAnotherBodyIs422AndRunsNothing() {
        WebTestClient client = payClient(IdempotencyKeyWebFilter.create(ds));
        pay(client, "k", "refuse").expectStatus().isEqualTo(422).expectBody(String.class).isEqualTo("refused");
        assertKeyReused(pay(client, "k", "10"));
        assertEquals(0, effects());
    }

    @Test
    void aKeyReusedAfterSuccessWithAnotherBodyIs422AndTheSameBodyReplays() {
        IdempotencyKeyWebFilter filter = IdempotencyKeyWebFilter.create(ds);
        WebTestClient client = payClient(filter);
        String first = pay(client, "k", "10").expectStatus().isOk().expectBody(String.class).returnResult()
                .getResponseBody();
        assertKeyReused(pay(client, "k", "20"));
        assertEquals(first, pay(client, "k", "10").expectStatus().isOk().expectBody(String.class).returnResult()
                .getResponseBody());
        assertEquals(1, effects());
        // The fingerprint is the workflow's first recorded step; the handler's steps follow it.
        assertEquals(List.of(IdempotencyKeyWebFilter.FINGERPRINT_STEP_NAME, "pay"),
                recordedSteps(filter.workflowIdFor("k")));
    }

    @Test
    void aKeyReusedOnAnotherPathIs422BeforeAnyStep() {
        IdempotencyKeyWebFilter filter = IdempotencyKeyWebFilter.create(ds);
        WebTestClient client = client(filter);
        post(client, "/orders", "k");
        client.post().uri("/orders?again").header(KEY, "k").exchange().expectStatus().isEqualTo(422);
        client.post().uri("/refunds").header(KEY, "k").exchange().expectStatus().isEqualTo(422)
                .expectBody(String.class).value(b -> assertTrue(b.contains("different request"), b));
        assertEquals(2, effects());
    }

    @Test
    void configuredHeadersArePartOfTheFingerprint() {
        WebTestClient client = payClient(IdempotencyKeyWebFilter.builder().datasource(ds)
                .fingerprintHeaders("X-Account").build());
        client.post().uri("/pay").header(KEY, "k").header("X-Account", "a").bodyValue("10").exchange()
                .expectStatus().isOk();
        assertKeyReused(client.post().uri("/pay").header(KEY, "k").header("X-Account", "b").bodyValue("10")
                .exchange());
        client.post().uri("/pay").header(KEY, "k").header("X-Account", "a").bodyValue("10").exchange()
                .expectStatus().isOk();
        assertEquals(1, effects());
    }

    @Test
    void concurrentIdenticalRequestsWithFingerprintsRunOnceAndAnswerAlike() throws Exception {
        WebTestClient client = payClient(IdempotencyKeyWebFilter.create(ds));
        List<String> bodies = Concurrently.run(10, () -> pay(client, "together", "7").expectStatus().isOk()
                .expectBody(String.class).returnResult().getResponseBody());
        assertEquals(1, Set.copyOf(bodies).size(), bodies.toString());
        assertEquals(1, effects());
    }

    @Test
    void theHandlerFilterChecksFingerprintsToo() {
        RouterFunction<ServerResponse> routes = RouterFunctions.route()
                .POST("/fn", request -> request.bodyToMono(String.class).flatMap(body -> effect("fn")
                        .flatMap(id -> ServerResponse.ok().bodyValue(body + "|" + id))))
                .filter(IdempotencyKeyWebFilter.create(ds).handlerFilter())
                .build();
        WebTestClient client = WebTestClient.bindToRouterFunction(routes).configureClient()
                .responseTimeout(Duration.ofSeconds(60)).build();
        String first = client.post().uri("/fn").header(KEY, "h").bodyValue("a").exchange().expectStatus().isOk()
                .expectBody(String.class).returnResult().getResponseBody();
        assertTrue(first.startsWith("a|"), first);
        assertKeyReused(client.post().uri("/fn").header(KEY, "h").bodyValue("b").exchange());
        client.post().uri("/fn").header(KEY, "h").bodyValue("a").exchange().expectStatus().isOk()
                .expectBody(String.class).isEqualTo(first);
        assertEquals(1, effects());
    }

    @Test
    void aBodyOverTheLimitIs413AndRecordsNothing() {
        WebTestClient client = payClient(IdempotencyKeyWebFilter.builder().datasource(ds).maxBodySize(16).build());
        pay(client, "big", "x".repeat(17)).expectStatus().isEqualTo(413)
                .expectHeader().contentType(MediaType.APPLICATION_PROBLEM_JSON)
                .expectBody(String.class).value(b -> assertTrue(b.contains("16 bytes"), b));
        assertEquals(0, recorded());
        pay(client, "big", "x".repeat(16)).expectStatus().isOk();
    }

    @Test
    void theBuilderRefusesSettingsThatCannotWork() {
        var builder = IdempotencyKeyWebFilter.builder();
        assertThrows(InvalidConfigurationException.class, () -> builder.headerName("Idempotency Key"));
        assertThrows(InvalidConfigurationException.class, () -> builder.headerName(""));
        assertThrows(InvalidConfigurationException.class, () -> builder.methods());
        assertThrows(InvalidConfigurationException.class, () -> builder.methods(HttpMethod.POST, null));
        assertThrows(InvalidConfigurationException.class, () -> builder.workflowIdPrefix("a\nb"));
        assertThrows(InvalidConfigurationException.class,
                () -> builder.workflowIdPrefix("p".repeat(StepKey.MAX_WORKFLOW_ID_LENGTH)));
        assertThrows(InvalidConfigurationException.class, () -> builder.keyScope(null));
        assertThrows(InvalidConfigurationException.class, () -> builder.datasource(null));
        assertThrows(InvalidConfigurationException.class, () -> builder.fingerprintHeaders("bad header"));
        assertThrows(InvalidConfigurationException.class, () -> builder.maxBodySize(-1));
        assertThrows(InvalidConfigurationException.class, () -> builder.retryAfter(Duration.ZERO));
        assertEquals(StepKey.MAX_WORKFLOW_ID_LENGTH - 2, builder.workflowIdPrefix("p:").build().maxKeyLength());
    }
}
