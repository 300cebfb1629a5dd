package dev.txstep.reactor;

import dev.txstep.AsyncDatasource;
import dev.txstep.DatasourceClosedException;
import dev.txstep.DatasourceOptions;
import dev.txstep.InvalidConfigurationException;
import dev.txstep.IsolationLevel;
import dev.txstep.NonDeterminismException;
import dev.txstep.RecordedStepException;
import dev.txstep.RetriesExhaustedException;
import dev.txstep.StepKey;
import dev.txstep.spi.WorkflowScope;
import io.r2dbc.spi.R2dbcException;
import io.r2dbc.spi.R2dbcNonTransientResourceException;
import io.r2dbc.spi.R2dbcTransientResourceException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.core.io.buffer.DataBufferFactory;
import org.springframework.core.io.buffer.DataBufferLimitException;
import org.springframework.core.io.buffer.DataBufferUtils;
import org.springframework.http.HttpMethod;
import org.springframework.http.HttpStatus;
import org.springframework.http.server.reactive.ServerHttpRequest;
import org.springframework.http.server.reactive.ServerHttpRequestDecorator;
import org.springframework.web.reactive.function.server.HandlerFilterFunction;
import org.springframework.web.reactive.function.server.HandlerFunction;
import org.springframework.web.reactive.function.server.ServerRequest;
import org.springframework.web.reactive.function.server.ServerResponse;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilter;
import org.springframework.web.server.WebFilterChain;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Makes a WebFlux request that carries an {@code Idempotency-Key} header a workflow whose id is
 * derived from the key, so a retried request replays the transaction steps its first attempt
 * committed instead of running them again.
 *
 * <p>For such a request the rest of the chain runs as
 * {@code Workflow.run(workflowIdFor(key), chain.filter(exchange))}: every {@code AsyncDatasource}
 * step the handler subscribes — while building its response or while its body is written — gets
 * a step key {@code (workflow id, 0)}, {@code (…, 1)}, … . A retry with the same key replays those
 * steps: each returns its recorded output (or raises its recorded error) without running. A
 * handler that builds its response from its steps' outputs therefore answers a retry with the
 * same body, and its effects in the database happen once. Identical requests that arrive
 * together are safe too: the step's primary key lets one commit and hands the others its output,
 * so they all answer alike (no {@code 409 Conflict} "request in progress" is needed).
 *
 * <p><b>Which requests.</b> Requests whose method is one of {@link Builder#methods methods}
 * (default {@code POST} and {@code PATCH}, the methods the IETF Idempotency-Key draft names) and
 * that carry the header. Everything else — no header, or another method — passes through
 * untouched, with no workflow (its steps are plain transactions).
 *
 * <p><b>The key.</b> Exactly one header value, as the IETF draft defines it: an RFC 8941 string,
 * printable ASCII (0x20–0x7E) in double quotes with {@code \"} and {@code \\} escaped
 * ({@code Idempotency-Key: "8e03…"}); a bare value as most APIs accept it
 * ({@code Idempotency-Key: 8e03…}) names the same key. Refused with {@code 400 Bad Request} and an
 * {@code application/problem+json} body naming the rule, before anything runs: a character outside
 * printable ASCII (control characters, and any non-ASCII byte: a server reads header bytes one per
 * character, so {@code é} would otherwise become another key), a blank key, a malformed quoted
 * string, a list ({@code k1, k2}) or parameters ({@code "k";p=1}), several header lines, a key
 * longer than {@link #maxKeyLength()} (the workflow id's limit,
 * {@value StepKey#MAX_WORKFLOW_ID_LENGTH} characters, less the prefix).
 *
 * <p><b>The workflow id</b> is {@link Builder#workflowIdPrefix prefix} + key
 * ({@code idempotency-key:8e03…} by default). It is not scoped by method or path: the key is the
 * client's name for one logical request, and the same key sent to another endpoint is a client
 * error that should surface, not a new request. Where clients of different tenants or users share
 * one key space, give a {@link Builder#keyScope key scope} (the principal's name, a tenant id): the
 * id becomes prefix + scope + {@code :} + key, so one client's key can never replay another's
 * response.
 *
 * <p><b>Request fingerprints</b> (with a {@link Builder#datasource datasource}, e.g.
 * {@link #create(AsyncDatasource)}). The filter reads the body (at most
 * {@link Builder#maxBodySize maxBodySize} bytes, else {@code 413} and nothing runs) and records the
 * request's fingerprint — the method, and SHA-256 digests of the raw path and query, of the body's
 * bytes and of the {@link Builder#fingerprintHeaders fingerprint headers} — as step 0 of the key's
 * workflow, named {@value #FINGERPRINT_STEP_NAME}, in a transaction of its own; the handler's steps
 * follow it. A retry replays that step: if the recorded fingerprint differs from the request's, the
 * answer is {@code 422 Unprocessable Content} (problem+json naming the differing parts) and the
 * handler is not called. The body is compared byte for byte: {@code {"a":1}} and
 * {@code {"a": 1}} are different requests. The first request to arrive binds the key, whatever the
 * handler answers: a request the handler refuses as invalid has consumed its key, and the corrected
 * request needs a new one. Concurrent first attempts are resolved by the step's primary key: one
 * fingerprint is recorded and the others compare against it. Without a datasource there is no
 * fingerprint; a key reused for a request that runs differently named steps is still refused
 * ({@code 422}) when the names, recorded with the outputs, differ.
 *
 * <p><b>Failures that recorded nothing</b> — retries that ran out
 * ({@code RetriesExhaustedException}), the datasource closing ({@code DatasourceClosedException}),
 * a lost connection — are answered {@code 503 Service Unavailable} with
 * {@link Builder#retryAfter Retry-After} and a problem+json detail saying that nothing was recorded
 * and the same key may be retried. Only a recorded outcome (a step's output, or its recorded error,
 * replayed as {@code RecordedStepException}) is a final answer; errors other than the above pass
 * through to the application's error handling.
 *
 * <p><b>What it does not do.</b> It does not store responses: a replay answers with what the
 * handler builds from replayed step outputs, so status and headers that do not come from steps
 * are computed again. A request whose steps failed with an error the step recorded replays that
 * error.
 *
 * <p>Register it as a bean in a Spring Boot WebFlux application (it then applies to annotated
 * controllers and functional endpoints alike), or add it with {@code WebHttpHandlerBuilder.filter};
 * for a chosen set of functional routes use {@link #handlerFilter()} instead. Use one or the
 * other for a request, not both. When a key scope reads the principal, order this filter after
 * authentication (an unordered {@code WebFilter} bean runs after ordered ones such as Spring
 * Security's). Thread-safe and immutable.
 */
public final class IdempotencyKeyWebFilter implements WebFilter {

    /** The header's name by default, as the IETF draft names it. */
    public static final String DEFAULT_HEADER_NAME = "Idempotency-Key";

    /** The workflow id's prefix by default. */
    public static final String DEFAULT_WORKFLOW_ID_PREFIX = "idempotency-key:";

    /**
     * The name of the step that records a request's fingerprint: step 0 of every keyed request's
     * workflow when the filter has a datasource.
     */
    public static final String FINGERPRINT_STEP_NAME = "idempotency-key-fingerprint";

    /** The largest request body read for a fingerprint by default, in bytes: 256 KiB, as Spring's codecs. */
    public static final int DEFAULT_MAX_BODY_SIZE = 256 * 1024;

    /** The {@code Retry-After} of a {@code 503} by default. */
    public static final Duration DEFAULT_RETRY_AFTER = Duration.ofSeconds(1);

    private static final Logger LOG = LoggerFactory.getLogger(IdempotencyKeyWebFilter.class);

    /**
     * READ COMMITTED: the step reads and writes nothing but its own output row, and at that level
     * the first step's look-up of the recorded steps travels with its BEGIN (no extra round trip).
     */
    private static final DatasourceOptions FINGERPRINT_OPTIONS =
            new DatasourceOptions(FINGERPRINT_STEP_NAME, IsolationLevel.READ_COMMITTED);

    /** How deep the cause chain is searched when classifying a failure. */
    private static final int MAX_CAUSE_DEPTH = 16;

    private final String headerName;
    private final Set<HttpMethod> methods;
    private final String workflowIdPrefix;
    private final Function<? super ServerWebExchange, ? extends Mono<String>> keyScope;
    private final AsyncDatasource datasource;
    private final List<String> fingerprintHeaders;
    private final int maxBodySize;
    private final long retryAfterSeconds;

    private IdempotencyKeyWebFilter(Builder builder) {
        this.headerName = builder.headerName;
        this.methods = Set.copyOf(builder.methods);
        this.workflowIdPrefix = builder.workflowIdPrefix;
        this.keyScope = builder.keyScope;
        this.datasource = builder.datasource;
        this.fingerprintHeaders = List.copyOf(builder.fingerprintHeaders);
        this.maxBodySize = builder.maxBodySize;
        this.retryAfterSeconds = builder.retryAfterSeconds;
    }

    /**
     * A filter with the defaults: header {@value #DEFAULT_HEADER_NAME}, methods {@code POST} and
     * {@code PATCH}, prefix {@value #DEFAULT_WORKFLOW_ID_PREFIX}, no key scope.
     *
     * @return the filter
     */
    public static IdempotencyKeyWebFilter create() {
        return builder().build();
    }

    /**
     * A filter with the defaults that also records each keyed request's fingerprint on
     * {@code datasource} (see "Request fingerprints" in the class description), so a key reused
     * for a different request is answered {@code 422}. The same as
     * {@code builder().datasource(datasource).build()}.
     *
     * @param datasource where the fingerprint steps are recorded: the datasource the handlers'
     *                   steps use, so a key's fingerprint and its steps share one workflow
     * @return the filter
     * @throws InvalidConfigurationException if {@code datasource} is null
     */
    public static IdempotencyKeyWebFilter create(AsyncDatasource datasource) {
        return builder().datasource(datasource).build();
    }

    /**
     * A builder starting from the defaults of {@link #create()}.
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Runs the rest of the chain as a workflow when the request carries a key; see the class
     * description.
     *
     * @param exchange the request and response
     * @param chain    the rest of the chain
     * @return on subscribe: the rest of the chain, inside the key's workflow when there is a key,
     *         as is when there is none. Answered here instead, with a problem response, unless the
     *         response is already committed (then the error passes through): an invalid key
     *         ({@code 400}, nothing runs); a body over the limit ({@code 413}, nothing runs); a key
     *         whose recorded fingerprint or steps belong to a different request ({@code 422},
     *         nothing runs); a failure that left nothing recorded — retries ran out, the
     *         datasource closed, the connection was lost ({@code 503} with {@code Retry-After}).
     *         Other errors of the chain pass through. Cancelling cancels the chain, which rolls
     *         back a step that has not committed.
     */
    @Override
    public Mono<Void> filter(ServerWebExchange exchange, WebFilterChain chain) {
        return inWorkflowIfKeyed(exchange,
                () -> chain.filter(exchange),
                workflowId -> bufferBody(exchange.getRequest())
                        .flatMap(body -> {
                            ServerWebExchange keyed = body.bytes() == null ? exchange : exchange.mutate()
                                    .request(withBody(exchange.getRequest(), body.bytes(),
                                            exchange.getResponse().bufferFactory()))
                                    .build();
                            // The fingerprint step is subscribed first, so it is step 0, and the
                            // chain runs only once it matched.
                            return Workflow.run(workflowId, checkFingerprint(exchange.getRequest(), body)
                                    .then(Mono.defer(() -> chain.filter(keyed))));
                        })
                        .onErrorResume(e -> {
                            Problem problem = problemFor(e, workflowId);
                            return problem == null || exchange.getResponse().isCommitted() ? Mono.error(e)
                                    : ProblemResponses.write(exchange, problem.status(), problem.detail(),
                                            problem.retryAfterSeconds());
                        }),
                detail -> ProblemResponses.write(exchange, HttpStatus.BAD_REQUEST, detail, 0));
    }

    /**
     * The same behaviour for chosen functional routes, e.g.
     * {@code route().POST("/transfers", handler::transfer).filter(filter.handlerFilter())}.
     *
     * <p>The handler and the writing of its response body run in one workflow execution: steps
     * subscribed by a body publisher ({@code ServerResponse.ok().body(mono, T.class)}) are part of
     * it, numbered after the handler's own (and after the fingerprint step, when there is one).
     *
     * @return a handler filter applying this filter's settings, with the same answers as
     *         {@link #filter}: a bad key gets a {@code 400} problem response without calling the
     *         handler, and so on; a failure while the body is written passes through
     */
    public HandlerFilterFunction<ServerResponse, ServerResponse> handlerFilter() {
        return (request, next) -> inWorkflowIfKeyed(request.exchange(),
                () -> next.handle(request),
                workflowId -> bufferBody(request.exchange().getRequest())
                        .flatMap(body -> {
                            ServerRequest keyed = body.bytes() == null ? request : ServerRequest.from(request)
                                    .body(bodyOf(body.bytes(), request.exchange().getResponse().bufferFactory()))
                                    .build();
                            return handleInWorkflow(workflowId, keyed, next,
                                    checkFingerprint(request.exchange().getRequest(), body));
                        })
                        .onErrorResume(e -> {
                            Problem problem = problemFor(e, workflowId);
                            return problem == null ? Mono.error(e) : ProblemResponses.serverResponse(
                                    problem.status(), problem.detail(), problem.retryAfterSeconds());
                        }),
                detail -> ProblemResponses.serverResponse(HttpStatus.BAD_REQUEST, detail, 0));
    }

    /**
     * The workflow id for a key when no key scope is set: the prefix followed by the key. Useful
     * to find or prune the steps of one request, e.g.
     * {@code ds.pruneWorkflows(List.of(filter.workflowIdFor(key)))}.
     *
     * @param key the key as the client sent it, unquoted
     * @return the workflow id (not validated: it may exceed the length limit)
     * @throws NullPointerException if {@code key} is null
     */
    public String workflowIdFor(String key) {
        Objects.requireNonNull(key, "key");
        return keyScope == null ? workflowIdPrefix + key : workflowIdFor("", key);
    }

    /**
     * The workflow id for a key in a scope: the prefix, the scope with {@code %} and {@code :}
     * (and control characters) percent-encoded, a {@code :}, then the key. The encoding makes the
     * first {@code :} after the prefix the end of the scope, so different scope and key pairs
     * never give the same id.
     *
     * @param scope the scope, e.g. the principal's name; empty for requests the scope function
     *              returned nothing for
     * @param key   the key as the client sent it, unquoted
     * @return the workflow id (not validated: it may exceed the length limit)
     * @throws NullPointerException if an argument is null
     */
    public String workflowIdFor(String scope, String key) {
        Objects.requireNonNull(scope, "scope");
        Objects.requireNonNull(key, "key");
        return workflowIdPrefix + encodeScope(scope) + ":" + key;
    }

    /**
     * The longest key accepted without a scope: {@value StepKey#MAX_WORKFLOW_ID_LENGTH} less the
     * prefix's length. With a scope, the encoded scope and its separator count too.
     *
     * @return the number of characters
     */
    public int maxKeyLength() {
        return StepKey.MAX_WORKFLOW_ID_LENGTH - workflowIdPrefix.length();
    }

    /**
     * The shared decision: pass through, refuse, or run in the key's workflow. Generic in the
     * result so the web filter ({@code Mono<Void>}) and the handler filter
     * ({@code Mono<ServerResponse>}) follow the same rules.
     */
    private <R> Mono<R> inWorkflowIfKeyed(ServerWebExchange exchange, Supplier<Mono<R>> passThrough,
            Function<String, Mono<R>> run, Function<String, Mono<R>> refuse) {
        if (!methods.contains(exchange.getRequest().getMethod())) {
            return passThrough.get();
        }
        List<String> values = exchange.getRequest().getHeaders().getOrEmpty(headerName);
        if (values.isEmpty()) {
            return passThrough.get();
        }
        ParsedKey parsed = ParsedKey.parse(headerName, values);
        if (parsed instanceof ParsedKey.Invalid invalid) {
            return refuse.apply(invalid.detail());
        }
        String key = ((ParsedKey.Valid) parsed).key();
        if (keyScope == null) {
            return runOrRefuse(workflowIdPrefix + key, key, run, refuse);
        }
        return Mono.defer(() -> Objects.requireNonNull(keyScope.apply(exchange), "key scope returned null"))
                .defaultIfEmpty("")
                .flatMap(scope -> runOrRefuse(workflowIdFor(scope, key), key, run, refuse));
    }

    private <R> Mono<R> runOrRefuse(String workflowId, String key, Function<String, Mono<R>> run,
            Function<String, Mono<R>> refuse) {
        if (workflowId.length() > StepKey.MAX_WORKFLOW_ID_LENGTH) {
            int limit = StepKey.MAX_WORKFLOW_ID_LENGTH - (workflowId.length() - key.length());
            return refuse.apply(headerName + " is " + key.length() + " characters long; at most "
                    + Math.max(limit, 0) + " are accepted");
        }
        return run.apply(workflowId);
    }

    private static Mono<ServerResponse> handleInWorkflow(String workflowId, ServerRequest request,
            HandlerFunction<ServerResponse> next, Mono<Void> fingerprintCheck) {
        return Mono.defer(() -> {
            // One execution for the fingerprint, the handler and the writing of its body: all see
            // this scope, so their steps share one counter. A new subscription (a retry) starts a
            // new scope.
            WorkflowScope scope = WorkflowScope.start(workflowId);
            return fingerprintCheck.then(Mono.defer(() -> next.handle(request)))
                    .<ServerResponse>map(response -> new WorkflowServerResponse(response, scope))
                    .contextWrite(ctx -> ctx.put(WorkflowScope.CONTEXT_KEY, scope));
        });
    }

    /** A request body read for its fingerprint; {@code bytes} is null when nothing was read. */
    private record Body(byte[] bytes) {
        static final Body NOT_READ = new Body(null);
    }

    /**
     * Reads the whole body when fingerprints are on: its digest is part of the fingerprint, and
     * the handler then reads the same bytes again. Bounded, so a client cannot make the filter
     * hold an arbitrarily large body.
     */
    private Mono<Body> bufferBody(ServerHttpRequest request) {
        if (datasource == null) {
            return Mono.just(Body.NOT_READ);
        }
        if (request.getHeaders().getContentLength() > maxBodySize) {
            return Mono.error(new BodyTooLargeException());
        }
        return DataBufferUtils.join(request.getBody(), maxBodySize)
                .map(buffer -> {
                    byte[] bytes = new byte[buffer.readableByteCount()];
                    buffer.read(bytes);
                    DataBufferUtils.release(buffer);
                    return new Body(bytes);
                })
                .defaultIfEmpty(new Body(new byte[0]))
                .onErrorMap(DataBufferLimitException.class, e -> new BodyTooLargeException());
    }

    private static ServerHttpRequest withBody(ServerHttpRequest request, byte[] bytes, DataBufferFactory buffers) {
        return new ServerHttpRequestDecorator(request) {
            @Override
            public Flux<DataBuffer> getBody() {
                return bodyOf(bytes, buffers);
            }
        };
    }

    /** The buffered body, as a fresh buffer for each subscriber (a buffer is read only once). */
    private static Flux<DataBuffer> bodyOf(byte[] bytes, DataBufferFactory buffers) {
        return Flux.defer(() -> bytes.length == 0 ? Flux.empty() : Flux.just(buffers.wrap(bytes)));
    }

    /**
     * Records the request's fingerprint as the workflow's step 0, or replays the recorded one, and
     * fails with {@link KeyReusedException} if they differ. Empty when fingerprints are off.
     */
    private Mono<Void> checkFingerprint(ServerHttpRequest request, Body body) {
        if (datasource == null) {
            return Mono.empty();
        }
        return Mono.defer(() -> {
            String fingerprint = fingerprint(request, body.bytes());
            return datasource.runTxStepAsync(FINGERPRINT_OPTIONS, String.class, tx -> Mono.just(fingerprint))
                    .defaultIfEmpty("")
                    .flatMap(recorded -> recorded.equals(fingerprint) ? Mono.<Void>empty()
                            : Mono.<Void>error(new KeyReusedException(differences(recorded, fingerprint))));
        });
    }

    /**
     * The fingerprint: the method in clear, and SHA-256 digests of the target (raw path and query),
     * the body's bytes and the configured headers' values. Digests keep the recorded row small
     * whatever the request's size, and let a mismatch say which part differs. Each part is
     * {@code name=value}, separated by spaces; {@code v1} names this format.
     */
    String fingerprint(ServerHttpRequest request, byte[] body) {
        String query = request.getURI().getRawQuery();
        String target = request.getURI().getRawPath() + (query == null ? "" : "?" + query);
        StringBuilder out = new StringBuilder(256).append("v1 method=").append(request.getMethod().name())
                .append(" target=").append(sha256(target.getBytes(StandardCharsets.UTF_8)))
                .append(" body=").append(sha256(body));
        if (!fingerprintHeaders.isEmpty()) {
            // Length-prefixed, so different name/value splits never produce the same text.
            StringBuilder headers = new StringBuilder();
            for (String name : fingerprintHeaders) {
                List<String> values = request.getHeaders().getOrEmpty(name);
                headers.append(name.length()).append(':').append(name).append(values.size()).append(';');
                for (String value : values) {
                    headers.append(value.length()).append(':').append(value);
                }
            }
            out.append(" headers=").append(sha256(headers.toString().getBytes(StandardCharsets.UTF_8)));
        }
        return out.toString();
    }

    /** Which parts of two fingerprints differ, for the 422's detail ("the body", "the method and target"). */
    private static String differences(String recorded, String current) {
        List<String> recordedParts = Arrays.asList(recorded.split(" "));
        List<String> differing = new ArrayList<>();
        for (String part : current.split(" ")) {
            if (!recordedParts.contains(part)) {
                int eq = part.indexOf('=');
                differing.add(switch (eq < 0 ? part : part.substring(0, eq)) {
                    case "method" -> "method";
                    case "target" -> "path or query";
                    case "body" -> "body";
                    case "headers" -> "fingerprinted headers";
                    default -> "fingerprint format";
                });
            }
        }
        if (differing.isEmpty()) {
            differing.add("fingerprinted headers");
        }
        return "this Idempotency-Key was already used for a different request (its " + String.join(", ", differing)
                + " differed); send a new key for a new request (nothing was run)";
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }

    /** A problem response the filter answers with; {@code retryAfterSeconds} 0 means no header. */
    private record Problem(HttpStatus status, String detail, long retryAfterSeconds) {
    }

    /**
     * The answer to a failure of a keyed request, or null when the failure is not the filter's to
     * answer (it passes through to the application's error handling).
     */
    private Problem problemFor(Throwable error, String workflowId) {
        if (error instanceof KeyReusedException reused) {
            return new Problem(HttpStatus.UNPROCESSABLE_CONTENT, reused.getMessage(), 0);
        }
        if (error instanceof NonDeterminismException) {
            return new Problem(HttpStatus.UNPROCESSABLE_CONTENT, ProblemResponses.KEY_REUSED, 0);
        }
        if (error instanceof BodyTooLargeException) {
            return new Problem(HttpStatus.CONTENT_TOO_LARGE, "the request body is larger than the " + maxBodySize
                    + " bytes accepted with " + headerName + " (nothing was run)", 0);
        }
        if (isUnrecorded(error)) {
            // Retries running out are logged by the step engine already, in one WARN line with the
            // step's key; the other unrecorded failures get their one line here. No stack trace:
            // the cause is an infrastructure condition, and the client is told to retry.
            if (error instanceof RetriesExhaustedException) {
                LOG.debug("{}: answered 503, nothing recorded: {}", workflowId, error.toString());
            } else {
                LOG.warn("{}: answered 503, nothing recorded: {}", workflowId, error.toString());
            }
            return new Problem(HttpStatus.SERVICE_UNAVAILABLE, "the request failed for a reason that is not its"
                    + " outcome (" + reason(error) + "); nothing was recorded, and the same " + headerName
                    + " may be retried", retryAfterSeconds);
        }
        return null;
    }

    /**
     * Whether a failure left no recorded outcome: retries that ran out, a closed datasource, or a
     * lost connection (SQLSTATE class 08 but 08P01, 57P01–57P03, 53300, or a driver's resource error
     * without a SQLSTATE) — the failures the step engine itself treats as not the step's outcome.
     * A {@link RecordedStepException} found first is a recorded outcome: final.
     */
    static boolean isUnrecorded(Throwable error) {
        Throwable t = error;
        for (int depth = 0; t != null && depth < MAX_CAUSE_DEPTH; depth++, t = t.getCause()) {
            if (t instanceof RecordedStepException) {
                return false;
            }
            if (t instanceof RetriesExhaustedException || t instanceof DatasourceClosedException) {
                return true;
            }
            if (t instanceof R2dbcException r2dbc) {
                String state = r2dbc.getSqlState();
                if (state != null && !state.isEmpty()) {
                    return (state.startsWith("08") && !state.equals("08P01")) || state.equals("57P01")
                            || state.equals("57P02") || state.equals("57P03") || state.equals("53300");
                }
                return t instanceof R2dbcNonTransientResourceException || t instanceof R2dbcTransientResourceException;
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return false;
    }

    private static String reason(Throwable error) {
        if (error instanceof RetriesExhaustedException) {
            return "the database kept reporting conflicts or lost connections until retries ran out";
        }
        if (error instanceof DatasourceClosedException) {
            return "the service is shutting down";
        }
        return "the database connection was lost";
    }

    /** A replayed fingerprint that is not the request's: answered 422. Internal signal, no stack trace. */
    private static final class KeyReusedException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        KeyReusedException(String detail) {
            super(detail, null, false, false);
        }
    }

    /** A body over the limit: answered 413. Internal signal, no stack trace. */
    private static final class BodyTooLargeException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        BodyTooLargeException() {
            super("request body too large", null, false, false);
        }
    }

    private static String encodeScope(String scope) {
        StringBuilder out = null;
        for (int i = 0; i < scope.length(); i++) {
            char c = scope.charAt(i);
            if (c == '%' || c == ':' || Character.isISOControl(c)) {
                if (out == null) {
                    out = new StringBuilder(scope.length() + 8).append(scope, 0, i);
                }
                out.append('%').append(String.format("%02X", (int) c));
            } else if (out != null) {
                out.append(c);
            }
        }
        return out == null ? scope : out.toString();
    }

    @Override
    public String toString() {
        return "IdempotencyKeyWebFilter[header=" + headerName + ", methods="
                + methods.stream().map(HttpMethod::name).sorted().collect(Collectors.joining(",")) + ", prefix="
                + workflowIdPrefix + (keyScope == null ? "" : ", scoped")
                + (datasource == null ? ", no fingerprints" : ", fingerprints" + (fingerprintHeaders.isEmpty() ? ""
                        : " with headers " + String.join(",", fingerprintHeaders)) + ", max body " + maxBodySize)
                + ", retry-after " + retryAfterSeconds + "s]";
    }

    /**
     * Builds an {@link IdempotencyKeyWebFilter}. Each method validates its argument at once and
     * throws {@link InvalidConfigurationException} naming the setting. Not thread-safe.
     */
    public static final class Builder {

        private String headerName = DEFAULT_HEADER_NAME;
        private Set<HttpMethod> methods = Set.of(HttpMethod.POST, HttpMethod.PATCH);
        private String workflowIdPrefix = DEFAULT_WORKFLOW_ID_PREFIX;
        private Function<? super ServerWebExchange, ? extends Mono<String>> keyScope;
        private AsyncDatasource datasource;
        private List<String> fingerprintHeaders = List.of();
        private int maxBodySize = DEFAULT_MAX_BODY_SIZE;
        private long retryAfterSeconds = DEFAULT_RETRY_AFTER.toSeconds();

        private Builder() {
        }

        /**
         * The request header that carries the key. Defaults to {@value #DEFAULT_HEADER_NAME}.
         *
         * @param headerName an HTTP field name (letters, digits and {@code !#$%&'*+-.^_`|~})
         * @return this builder
         * @throws InvalidConfigurationException if it is null, empty or not a field name
         */
        public Builder headerName(String headerName) {
            if (headerName == null || headerName.isEmpty() || !headerName.chars().allMatch(Builder::isTokenChar)) {
                throw new InvalidConfigurationException("headerName must be an HTTP field name, was '" + headerName + "'");
            }
            this.headerName = headerName;
            return this;
        }

        /**
         * The methods whose requests are made workflows when they carry a key; requests with other
         * methods pass through even with the header. Defaults to {@code POST} and {@code PATCH}.
         *
         * @param methods one or more methods
         * @return this builder
         * @throws InvalidConfigurationException if none is given or one is null
         */
        public Builder methods(HttpMethod... methods) {
            if (methods == null || methods.length == 0 || Arrays.asList(methods).contains(null)) {
                throw new InvalidConfigurationException("methods must name at least one method and no null");
            }
            this.methods = new LinkedHashSet<>(Arrays.asList(methods));
            return this;
        }

        /**
         * What the workflow id starts with, so idempotent requests' workflows are told apart from
         * other workflows in {@code datasource_outputs}. Defaults to
         * {@value #DEFAULT_WORKFLOW_ID_PREFIX}. Give each filter its own prefix if several share a
         * datasource.
         *
         * @param workflowIdPrefix the prefix; may be empty; no control characters; shorter than
         *                         {@value StepKey#MAX_WORKFLOW_ID_LENGTH} characters
         * @return this builder
         * @throws InvalidConfigurationException if it is null, too long or has a control character
         */
        public Builder workflowIdPrefix(String workflowIdPrefix) {
            if (workflowIdPrefix == null || workflowIdPrefix.length() >= StepKey.MAX_WORKFLOW_ID_LENGTH
                    || workflowIdPrefix.chars().anyMatch(Character::isISOControl)) {
                throw new InvalidConfigurationException("workflowIdPrefix must be shorter than "
                        + StepKey.MAX_WORKFLOW_ID_LENGTH + " characters and free of control characters");
            }
            this.workflowIdPrefix = workflowIdPrefix;
            return this;
        }

        /**
         * Scopes keys, so equal keys in different scopes are different requests: the workflow id
         * becomes prefix + scope + {@code :} + key (see {@link #workflowIdFor(String, String)}).
         * For example the principal's name,
         * {@code exchange -> exchange.getPrincipal().map(Principal::getName)}, or method and path,
         * {@code exchange -> Mono.just(exchange.getRequest().getMethod().name() + " "
         * + exchange.getRequest().getPath().value())}. Defaults to none: the key alone names the
         * request. The function is called once per keyed request; an empty {@code Mono} means the
         * empty scope (shared by every request it is empty for); an error fails the request.
         *
         * @param keyScope the scope of a request
         * @return this builder
         * @throws InvalidConfigurationException if it is null
         */
        public Builder keyScope(Function<? super ServerWebExchange, ? extends Mono<String>> keyScope) {
            if (keyScope == null) {
                throw new InvalidConfigurationException("keyScope must not be null");
            }
            this.keyScope = keyScope;
            return this;
        }

        /**
         * Turns request fingerprints on: each keyed request's fingerprint is recorded on this
         * datasource as step 0 of the key's workflow, and a request whose fingerprint differs from
         * the recorded one is answered {@code 422} before anything else runs (see the class
         * description). Defaults to none: no fingerprints, the body is not read by the filter.
         *
         * @param datasource the datasource the handlers' steps use
         * @return this builder
         * @throws InvalidConfigurationException if it is null
         */
        public Builder datasource(AsyncDatasource datasource) {
            if (datasource == null) {
                throw new InvalidConfigurationException("datasource must not be null");
            }
            this.datasource = datasource;
            return this;
        }

        /**
         * Request headers whose values are part of the fingerprint, for requests whose meaning
         * depends on them (an account or tenant header, say). Names are compared ignoring case; a
         * header sent several times counts with all its values in order. Defaults to none. Only
         * used with a {@link #datasource datasource}.
         *
         * @param names HTTP field names; none to clear
         * @return this builder
         * @throws InvalidConfigurationException if a name is null or not a field name
         */
        public Builder fingerprintHeaders(String... names) {
            if (names == null) {
                throw new InvalidConfigurationException("fingerprintHeaders must not be null");
            }
            for (String name : names) {
                if (name == null || name.isEmpty() || !name.chars().allMatch(Builder::isTokenChar)) {
                    throw new InvalidConfigurationException("fingerprintHeaders must be HTTP field names, was '"
                            + name + "'");
                }
            }
            this.fingerprintHeaders = List.of(names);
            return this;
        }

        /**
         * The largest request body the filter reads for a fingerprint; a larger one is answered
         * {@code 413} and nothing runs. Defaults to {@value #DEFAULT_MAX_BODY_SIZE} bytes, Spring's
         * own codec limit. Only used with a {@link #datasource datasource}.
         *
         * @param bytes the limit, at least 0
         * @return this builder
         * @throws InvalidConfigurationException if negative
         */
        public Builder maxBodySize(int bytes) {
            if (bytes < 0) {
                throw new InvalidConfigurationException("maxBodySize must be at least 0 bytes, was " + bytes);
            }
            this.maxBodySize = bytes;
            return this;
        }

        /**
         * The {@code Retry-After} sent with a {@code 503} (a failure that recorded nothing), in
         * whole seconds, rounded up. Defaults to 1 second.
         *
         * @param retryAfter at least 1 second
         * @return this builder
         * @throws InvalidConfigurationException if null or shorter than 1 second
         */
        public Builder retryAfter(Duration retryAfter) {
            if (retryAfter == null || retryAfter.compareTo(Duration.ofSeconds(1)) < 0) {
                throw new InvalidConfigurationException("retryAfter must be at least 1 second, was " + retryAfter);
            }
            this.retryAfterSeconds = retryAfter.toSeconds() + (retryAfter.toNanosPart() > 0 ? 1 : 0);
            return this;
        }

        /**
         * @return a filter with these settings
         */
        public IdempotencyKeyWebFilter build() {
            return new IdempotencyKeyWebFilter(this);
        }

        private static boolean isTokenChar(int c) {
            return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
        }
    }
}
