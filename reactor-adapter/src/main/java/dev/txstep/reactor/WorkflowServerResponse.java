package dev.txstep.reactor;

import dev.txstep.NonDeterminismException;
import dev.txstep.spi.WorkflowScope;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.ResponseCookie;
import org.springframework.util.MultiValueMap;
import org.springframework.web.reactive.function.server.ServerResponse;
import org.springframework.web.server.ServerWebExchange;
import reactor.core.publisher.Mono;

/**
 * A functional endpoint's response whose body is written inside the workflow execution the handler
 * ran in.
 *
 * <p>Why it exists: a {@code HandlerFilterFunction}'s context covers the handler building its
 * {@code ServerResponse}, but a body publisher ({@code ServerResponse.ok().body(steps, T.class)})
 * is subscribed later, in {@link #writeTo}, outside that context. Its steps would then run as plain
 * transactions, recorded nowhere, and a retried request would run them again. Writing the body in
 * the same {@link WorkflowScope} keeps the handler's and the body's steps in one execution, with one
 * step counter.
 */
final class WorkflowServerResponse implements ServerResponse {

    private final ServerResponse delegate;
    private final WorkflowScope scope;

    WorkflowServerResponse(ServerResponse delegate, WorkflowScope scope) {
        this.delegate = delegate;
        this.scope = scope;
    }

    @Override
    public HttpStatusCode statusCode() {
        return delegate.statusCode();
    }

    @Override
    public HttpHeaders headers() {
        return delegate.headers();
    }

    @Override
    public MultiValueMap<String, ResponseCookie> cookies() {
        return delegate.cookies();
    }

    @Override
    public Mono<Void> writeTo(ServerWebExchange exchange, Context context) {
        return delegate.writeTo(exchange, context)
                .onErrorResume(NonDeterminismException.class, e -> ProblemResponses.keyReused(exchange, e))
                .contextWrite(ctx -> ctx.put(WorkflowScope.CONTEXT_KEY, scope));
    }

    @Override
    public String toString() {
        return delegate + " in " + scope;
    }
}
