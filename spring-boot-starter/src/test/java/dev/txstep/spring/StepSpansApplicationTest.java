package dev.txstep.spring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.txstep.AsyncDatasource;
import dev.txstep.DatasourceOptions;
import dev.txstep.micrometer.ObservationStepObserver;
import dev.txstep.reactor.IdempotencyKeyWebFilter;
import dev.txstep.testing.TestDatabases;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationRegistry;
import io.micrometer.observation.contextpropagation.ObservationThreadLocalAccessor;
import io.micrometer.tracing.handler.DefaultTracingObservationHandler;
import io.micrometer.tracing.test.simple.SimpleSpan;
import io.micrometer.tracing.test.simple.SimpleTracer;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.annotation.Bean;
import org.springframework.core.Ordered;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.reactive.server.WebTestClient;
import org.springframework.web.reactive.function.server.RouterFunction;
import org.springframework.web.reactive.function.server.RouterFunctions;
import org.springframework.web.reactive.function.server.ServerResponse;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilter;
import org.springframework.web.server.WebFilterChain;
import reactor.core.publisher.Mono;

/**
 * The span tree of one Idempotency-Key POST whose handler runs three steps, in an application
 * that defines an {@link ObservationRegistry} with Micrometer Tracing's handler over a
 * {@link SimpleTracer}: the starter's {@link ObservationStepObserver} makes each step (the
 * filter's fingerprint step and the handler's three) a span, child of the request's span, all
 * in the request's trace. The request's span is made by a web filter of the test, ahead of the
 * Idempotency-Key filter, as a server instrumentation would.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = "txstep.web.idempotency-key.enabled=true")
@DirtiesContext // closes the application, and with it the datasource and Spring's pool
class StepSpansApplicationTest {

    private static final String URL = TestDatabases.postgresR2dbcUrl();
    private static final String SCHEMA = TestDatabases.uniqueSchema("starter_spans");
    private static final SimpleTracer TRACER = new SimpleTracer();

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
    void theStepsOfOneKeyedRequestAreChildSpansOfTheRequestsSpan() {
        String key = UUID.randomUUID().toString();
        WebTestClient.bindToServer().baseUrl("http://localhost:" + port).responseTimeout(Duration.ofSeconds(60))
                .build().post().uri("/checkout").header(IdempotencyKeyWebFilter.DEFAULT_HEADER_NAME, key)
                .exchange().expectStatus().isOk();

        // The request's observation stops when the server's filter chain ends, which may come just
        // after the client has the response (a span is named when it stops): wait for it. Other
        // observations of the application may still be open, unnamed: only the test's request
        // span and the step spans are compared.
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        List<SimpleSpan> spans = List.copyOf(TRACER.getSpans());
        while (spans.stream().noneMatch(s -> "test.request".equals(s.getName())) && System.nanoTime() < deadline) {
            LockSupport.parkNanos(Duration.ofMillis(20).toNanos());
            spans = List.copyOf(TRACER.getSpans());
        }
        SimpleSpan request = spans.stream().filter(s -> "test.request".equals(s.getName())).findFirst()
                .orElseThrow(() -> new AssertionError("the request's span never stopped: " + TRACER.getSpans()));
        List<SimpleSpan> inTrace = spans.stream().filter(s -> request.getTraceId().equals(s.getTraceId())).toList();
        List<String> stepSpans = inTrace.stream().filter(s -> s.getName() != null && s.getName().startsWith("txstep "))
                .map(s -> s.getName() + " parent=" + (s.getParentId().equals(request.getSpanId()) ? "request" : s.getParentId())
                        + " step=" + s.getTags().get("txstep.step.id")
                        + " outcome=" + s.getTags().get("txstep.step.outcome"))
                .sorted().toList();
        assertEquals(List.of(
                "txstep " + IdempotencyKeyWebFilter.FINGERPRINT_STEP_NAME + " parent=request step=0 outcome=executed",
                "txstep reserve parent=request step=1 outcome=executed",
                "txstep charge parent=request step=2 outcome=executed",
                "txstep ship parent=request step=3 outcome=executed").stream().sorted().toList(),
                stepSpans, "every step of the request, as a child of the request's span, in its trace");
        String workflowId = IdempotencyKeyWebFilter.DEFAULT_WORKFLOW_ID_PREFIX + key;
        assertTrue(inTrace.stream().filter(s -> s.getName() != null && s.getName().startsWith("txstep "))
                .allMatch(s -> workflowId.equals(s.getTags().get("txstep.workflow.id"))), inTrace::toString);
        assertEquals(SCHEMA, datasource.schema());
    }

    /** The application: one keyed endpoint running three steps, and a registry whose observations are spans. */
    @SpringBootConfiguration(proxyBeanMethods = false)
    @EnableAutoConfiguration
    static class CheckoutApplication {

        @Bean
        ObservationRegistry observationRegistry() {
            ObservationRegistry registry = ObservationRegistry.create();
            registry.observationConfig().observationHandler(new DefaultTracingObservationHandler(TRACER));
            return registry;
        }

        /** The request's span, as a server instrumentation makes it, in the context the chain runs with. */
        @Bean
        WebFilter requestObservation(ObservationRegistry registry) {
            return new RequestObservationFilter(registry);
        }

        @Bean
        RouterFunction<ServerResponse> checkoutRoutes(AsyncDatasource datasource) {
            return RouterFunctions.route()
                    .POST("/checkout", request -> step(datasource, "reserve")
                            .then(step(datasource, "charge"))
                            .then(step(datasource, "ship"))
                            .flatMap(n -> ServerResponse.ok().bodyValue(String.valueOf(n))))
                    .build();
        }

        private static Mono<Integer> step(AsyncDatasource datasource, String name) {
            return datasource.runTxStepAsync(DatasourceOptions.named(name), Integer.class,
                    session -> session.query("SELECT 1", (row, meta) -> row.get(0, Integer.class)).single());
        }
    }

    /** Observes the exchange; runs first, so the Idempotency-Key filter and the handler run inside it. */
    static final class RequestObservationFilter implements WebFilter, Ordered {

        private final ObservationRegistry registry;

        RequestObservationFilter(ObservationRegistry registry) {
            this.registry = registry;
        }

        @Override
        public Mono<Void> filter(ServerWebExchange exchange, WebFilterChain chain) {
            return Mono.deferContextual(ctx -> {
                Observation observation = Observation.createNotStarted("test.request", registry)
                        .parentObservation(ctx.getOrDefault(ObservationThreadLocalAccessor.KEY, null))
                        .start();
                return chain.filter(exchange)
                        .doOnTerminate(observation::stop)
                        .contextWrite(c -> c.put(ObservationThreadLocalAccessor.KEY, observation));
            });
        }

        @Override
        public int getOrder() {
            return Ordered.HIGHEST_PRECEDENCE;
        }
    }
}
