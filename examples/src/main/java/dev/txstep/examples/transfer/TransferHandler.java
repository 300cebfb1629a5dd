package dev.txstep.examples.transfer;

import dev.txstep.RecordedStepException;
import dev.txstep.reactor.IdempotencyKeyWebFilter;
import org.springframework.core.io.buffer.DataBufferLimitException;
import org.springframework.http.HttpMethod;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.web.reactive.function.server.HandlerFunction;
import org.springframework.web.reactive.function.server.ServerRequest;
import org.springframework.web.reactive.function.server.ServerResponse;
import reactor.core.publisher.Mono;

/**
 * The HTTP endpoints. Nothing here waits: every method returns a lazy {@code Mono} that WebFlux
 * subscribes on its event loop, and the database work runs on the R2DBC driver's own.
 *
 * <p>{@code POST /transfers} runs inside the workflow that {@link IdempotencyKeyWebFilter} starts
 * for the request's {@code Idempotency-Key}: the transfer step's output is recorded under that
 * key, and a retry gets the recorded {@link Transfer} back as its body.
 */
final class TransferHandler {

    private final TransferService transfers;

    TransferHandler(TransferService transfers) {
        this.transfers = transfers;
    }

    /**
     * {@code POST /transfers} with a JSON {@link TransferRequest} and an {@code Idempotency-Key}.
     *
     * <p>The body is validated before any step runs (see {@link TransferRequest#parse}). The
     * {@link IdempotencyKeyWebFilter} in front has already recorded the request's fingerprint under
     * the key, so a refused request has consumed its key: sending it again gets the same
     * {@code 400}, and a corrected request needs a new key (the filter answers {@code 422}).
     *
     * @return on subscribe: 200 with the {@link Transfer}; 400 without a key or with an invalid
     *         body, naming the field (nothing runs); 415 for a body that is not JSON; 413 for a body
     *         over the codec's limit; 422 if the bank refuses the transfer (unknown account,
     *         insufficient funds: recorded, so a retry gets the same answer)
     */
    Mono<ServerResponse> transfer(ServerRequest request) {
        if (request.headers().header(IdempotencyKeyWebFilter.DEFAULT_HEADER_NAME).isEmpty()) {
            // Without a key a retry could not be told from a new transfer: refuse rather than risk
            // moving the money twice.
            return problem(HttpStatus.BAD_REQUEST, "send an Idempotency-Key header: a new unique value (a UUID,"
                    + " say) for each transfer, and the same value when you retry it");
        }
        MediaType type = request.headers().contentType().orElse(null);
        if (type == null || !MediaType.APPLICATION_JSON.isCompatibleWith(type)) {
            return problem(HttpStatus.UNSUPPORTED_MEDIA_TYPE, "send the transfer as application/json");
        }
        // Bytes, not a codec's object mapping: TransferRequest.parse reads them strictly.
        return request.bodyToMono(byte[].class)
                .defaultIfEmpty(new byte[0])
                .flatMap(bytes -> {
                    TransferRequest body;
                    try {
                        body = TransferRequest.parse(bytes);
                    } catch (TransferRequest.InvalidRequestException e) {
                        return invalid(e);
                    }
                    return transfers.transfer(body)
                            .flatMap(transfer -> ServerResponse.ok().contentType(MediaType.APPLICATION_JSON)
                                    .bodyValue(transfer));
                })
                .onErrorResume(DataBufferLimitException.class, e -> problem(HttpStatus.CONTENT_TOO_LARGE,
                        "the body is larger than this service accepts"))
                .onErrorResume(TransferHandler::isRejection,
                        e -> problem(HttpStatus.UNPROCESSABLE_CONTENT, rejectionMessage(e)));
    }

    /**
     * Any other method on a known path.
     *
     * @param allowed the methods the path supports, for the {@code Allow} header
     * @return a handler answering 405 with a problem
     */
    static HandlerFunction<ServerResponse> methodNotAllowed(HttpMethod allowed) {
        return request -> ServerResponse.status(HttpStatus.METHOD_NOT_ALLOWED).allow(allowed)
                .contentType(MediaType.APPLICATION_PROBLEM_JSON)
                .bodyValue(ProblemDetail.forStatusAndDetail(HttpStatus.METHOD_NOT_ALLOWED,
                        request.method().name() + " is not supported here; use " + allowed.name()));
    }

    /**
     * {@code GET /accounts/{id}}.
     *
     * @return on subscribe: 200 with the {@link Account}, or 404
     */
    Mono<ServerResponse> account(ServerRequest request) {
        String id = request.pathVariable("id");
        return transfers.account(id)
                .flatMap(account -> ServerResponse.ok().contentType(MediaType.APPLICATION_JSON).bodyValue(account))
                .switchIfEmpty(Mono.defer(() -> problem(HttpStatus.NOT_FOUND, "no account '" + id + "'")));
    }

    /** A refusal, raised when the step ran ({@code TransferRejectedException}) or replayed (recorded). */
    private static boolean isRejection(Throwable error) {
        return error instanceof TransferRejectedException
                || error instanceof RecordedStepException recorded
                        && TransferRejectedException.class.getName().equals(recorded.errorType());
    }

    private static String rejectionMessage(Throwable error) {
        return error instanceof RecordedStepException recorded ? recorded.errorMessage() : error.getMessage();
    }

    private static Mono<ServerResponse> invalid(TransferRequest.InvalidRequestException e) {
        ProblemDetail problem = ProblemDetail.forStatusAndDetail(HttpStatus.BAD_REQUEST, e.getMessage());
        e.field().ifPresent(field -> problem.setProperty("field", field));
        return ServerResponse.badRequest().contentType(MediaType.APPLICATION_PROBLEM_JSON).bodyValue(problem);
    }

    private static Mono<ServerResponse> problem(HttpStatus status, String detail) {
        return ServerResponse.status(status).contentType(MediaType.APPLICATION_PROBLEM_JSON)
                .bodyValue(ProblemDetail.forStatusAndDetail(status, detail));
    }
}
