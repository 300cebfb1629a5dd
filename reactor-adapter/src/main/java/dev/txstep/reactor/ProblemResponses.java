package dev.txstep.reactor;

import dev.txstep.NonDeterminismException;
import java.nio.charset.StandardCharsets;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.server.reactive.ServerHttpResponse;
import org.springframework.web.reactive.function.server.ServerResponse;
import org.springframework.web.server.ServerWebExchange;
import reactor.core.publisher.Mono;

/**
 * The error responses of the idempotency filters: RFC 9457 problem details, written as bytes.
 *
 * <p>Written by hand rather than through {@code ProblemDetail} and the application's codecs so
 * that the detail reaches the client whatever the application configured: Spring Boot's default
 * error handler, for one, drops an exception's message from the response.
 */
final class ProblemResponses {

    /** Why a key's replay is refused when it meets another request's recorded steps. */
    static final String KEY_REUSED = "this idempotency key was already used for a request that ran different steps;"
            + " send a new key for a new request (nothing was run)";

    private ProblemResponses() {
    }

    /**
     * The answer to a replay that met another request's recorded steps while a functional
     * endpoint's body was written ({@code NonDeterminismException}): {@code 422}, unless the
     * response is already on its way, when only the error can be reported.
     *
     * @return on subscribe, writes the problem, or errors with {@code e} if the response is committed
     */
    static Mono<Void> keyReused(ServerWebExchange exchange, NonDeterminismException e) {
        return exchange.getResponse().isCommitted() ? Mono.error(e)
                : write(exchange, HttpStatus.UNPROCESSABLE_CONTENT, KEY_REUSED, 0);
    }

    /**
     * Writes a problem to the exchange's response.
     *
     * @param retryAfterSeconds the {@code Retry-After} header's value, or 0 for none
     * @return on subscribe, sets the status and headers and writes the body
     */
    static Mono<Void> write(ServerWebExchange exchange, HttpStatus status, String detail, long retryAfterSeconds) {
        return Mono.defer(() -> {
            ServerHttpResponse response = exchange.getResponse();
            response.setStatusCode(status);
            response.getHeaders().setContentType(MediaType.APPLICATION_PROBLEM_JSON);
            if (retryAfterSeconds > 0) {
                response.getHeaders().set(HttpHeaders.RETRY_AFTER, Long.toString(retryAfterSeconds));
            }
            DataBuffer body = response.bufferFactory().wrap(json(status, detail).getBytes(StandardCharsets.UTF_8));
            return response.writeWith(Mono.just(body));
        });
    }

    /**
     * The same problem as a functional-endpoint response.
     *
     * @param retryAfterSeconds the {@code Retry-After} header's value, or 0 for none
     * @return on subscribe, emits the response
     */
    static Mono<ServerResponse> serverResponse(HttpStatus status, String detail, long retryAfterSeconds) {
        return ServerResponse.status(status).contentType(MediaType.APPLICATION_PROBLEM_JSON)
                .headers(headers -> {
                    if (retryAfterSeconds > 0) {
                        headers.set(HttpHeaders.RETRY_AFTER, Long.toString(retryAfterSeconds));
                    }
                })
                .bodyValue(json(status, detail).getBytes(StandardCharsets.UTF_8));
    }

    static String json(HttpStatus status, String detail) {
        return "{\"type\":\"about:blank\",\"title\":" + quote(status.getReasonPhrase()) + ",\"status\":" + status.value()
                + ",\"detail\":" + quote(detail) + "}";
    }

    /** A JSON string literal; our details are ASCII, but escaping keeps that from being a promise. */
    private static String quote(String text) {
        StringBuilder out = new StringBuilder(text.length() + 2).append('"');
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.append('"').toString();
    }
}
