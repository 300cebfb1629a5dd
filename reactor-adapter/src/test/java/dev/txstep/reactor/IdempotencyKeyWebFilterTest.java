package dev.txstep.reactor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.springframework.web.reactive.function.server.RequestPredicates.GET;
import static org.springframework.web.reactive.function.server.RequestPredicates.POST;
import static org.springframework.web.reactive.function.server.RouterFunctions.route;

import dev.txstep.AsyncDatasource;
import dev.txstep.DatasourceOptions;
import dev.txstep.InvalidConfigurationException;
import dev.txstep.StepKey;
import dev.txstep.testing.TestDatabases;
import dev.txstep.testing.TestSchema;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
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
        ds = AsyncDatasource.create(AsyncDatasource.Config.builder().url(url).schema(schema.name()).build()).block();
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
        assertBadRequest(client, "control characters", "ab\u0001c");
        assertBadRequest(client, "control characters", "ab\u007fc");
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
        assertEquals(StepKey.MAX_WORKFLOW_ID_LENGTH - 2, builder.workflowIdPrefix("p:").build().maxKeyLength());
    }
}
