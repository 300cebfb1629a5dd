package dev.txstep.reactor;

import dev.txstep.InvalidConfigurationException;
import dev.txstep.NonDeterminismException;
import dev.txstep.StepKey;
import dev.txstep.WorkflowScope;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.springframework.http.HttpMethod;
import org.springframework.http.HttpStatus;
import org.springframework.web.reactive.function.server.HandlerFilterFunction;
import org.springframework.web.reactive.function.server.HandlerFunction;
import org.springframework.web.reactive.function.server.ServerRequest;
import org.springframework.web.reactive.function.server.ServerResponse;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilter;
import org.springframework.web.server.WebFilterChain;
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
 * <p><b>The key.</b> Exactly one header value; either the RFC 8941 quoted string the draft
 * specifies ({@code Idempotency-Key: "8e03…"}) or a bare value as most APIs accept it
 * ({@code Idempotency-Key: 8e03…}), which name the same key. A blank key, control characters, a
 * malformed quoted string, several header values or a key longer than
 * {@link #maxKeyLength()} (the workflow id's limit, {@value StepKey#MAX_WORKFLOW_ID_LENGTH}
 * characters, less the prefix) are refused with {@code 400 Bad Request} and an
 * {@code application/problem+json} body saying which; the handler is not called and nothing is
 * written to the database.
 *
 * <p><b>The workflow id</b> is {@link Builder#workflowIdPrefix prefix} + key
 * ({@code idempotency-key:8e03…} by default). It is not scoped by method or path: the key is the
 * client's name for one logical request, and the same key sent to another endpoint is a client
 * error that should surface, not a new request. It does surface when the two endpoints run
 * differently named steps: the replay is refused with {@code 422 Unprocessable Content} and
 * nothing runs (the step names, recorded with the outputs, differ). Where clients of different
 * tenants or users share one key space, give a {@link Builder#keyScope key scope} (the principal's
 * name, a tenant id, or method and path if you want them): the id becomes prefix + scope + {@code :}
 * + key, so one client's key can never replay another's response.
 *
 * <p><b>What it does not do.</b> It does not store responses: a replay answers with what the
 * handler builds from replayed step outputs, so status and headers that do not come from steps
 * are computed again. It does not compare request bodies: the same key with a different body
 * replays the first request's steps (compare the body with a recorded step output in the handler
 * if that matters; the transfer example does). A request whose steps failed with an error the
 * step recorded replays that error.
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

    private final String headerName;
    private final Set<HttpMethod> methods;
    private final String workflowIdPrefix;
    private final Function<? super ServerWebExchange, ? extends Mono<String>> keyScope;

    private IdempotencyKeyWebFilter(Builder builder) {
        this.headerName = builder.headerName;
        this.methods = Set.copyOf(builder.methods);
        this.workflowIdPrefix = builder.workflowIdPrefix;
        this.keyScope = builder.keyScope;
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
     *         as is when there is none; with an invalid key, a {@code 400} response and nothing
     *         else; a {@link NonDeterminismException} from the chain (the key was used for a
     *         request that ran different steps) becomes a {@code 422} response if the response is
     *         not yet committed. Other errors of the chain pass through. Cancelling cancels the
     *         chain, which rolls back a step that has not committed.
     */
    @Override
    public Mono<Void> filter(ServerWebExchange exchange, WebFilterChain chain) {
        return inWorkflowIfKeyed(exchange,
                () -> chain.filter(exchange),
                workflowId -> Workflow.run(workflowId, chain.filter(exchange))
                        .onErrorResume(NonDeterminismException.class, e -> ProblemResponses.keyReused(exchange, e)),
                detail -> ProblemResponses.write(exchange, HttpStatus.BAD_REQUEST, detail));
    }

    /**
     * The same behaviour for chosen functional routes, e.g.
     * {@code route().POST("/transfers", handler::transfer).filter(filter.handlerFilter())}.
     *
     * <p>The handler and the writing of its response body run in one workflow execution: steps
     * subscribed by a body publisher ({@code ServerResponse.ok().body(mono, T.class)}) are part of
     * it, numbered after the handler's own.
     *
     * @return a handler filter applying this filter's settings; a bad key gets a {@code 400}
     *         problem response without calling the handler
     */
    public HandlerFilterFunction<ServerResponse, ServerResponse> handlerFilter() {
        return (request, next) -> inWorkflowIfKeyed(request.exchange(),
                () -> next.handle(request),
                workflowId -> handleInWorkflow(workflowId, request, next),
                detail -> ProblemResponses.serverResponse(HttpStatus.BAD_REQUEST, detail));
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
            HandlerFunction<ServerResponse> next) {
        return Mono.defer(() -> {
            // One execution for the handler and for the writing of its body: both see this scope,
            // so their steps share one counter. A new subscription (a retry) starts a new scope.
            WorkflowScope scope = WorkflowScope.start(workflowId);
            return next.handle(request)
                    .<ServerResponse>map(response -> new WorkflowServerResponse(response, scope))
                    .contextWrite(ctx -> ctx.put(WorkflowScope.CONTEXT_KEY, scope));
        }).onErrorResume(NonDeterminismException.class, e -> ProblemResponses.keyReused());
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
                + workflowIdPrefix + (keyScope == null ? "" : ", scoped") + "]";
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
