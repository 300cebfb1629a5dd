package dev.txstep.examples.transfer;

import dev.txstep.RecordedStepException;
import dev.txstep.reactor.IdempotencyKeyWebFilter;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.web.reactive.function.server.ServerRequest;
import org.springframework.web.reactive.function.server.ServerResponse;
import org.springframework.web.server.ServerWebInputException;
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
     * @return on subscribe: 200 with the {@link Transfer}; 400 without a key or with a malformed
     *         body (nothing runs); 422 if the bank refuses the transfer (unknown account,
     *         insufficient funds: recorded, so a retry gets the same answer) or if the key was used
     *         for a different transfer
     */
    Mono<ServerResponse> transfer(ServerRequest request) {
        if (request.headers().header(IdempotencyKeyWebFilter.DEFAULT_HEADER_NAME).isEmpty()) {
            // Without a key a retry could not be told from a new transfer: refuse rather than risk
            // moving the money twice.
            return problem(HttpStatus.BAD_REQUEST, "send an Idempotency-Key header: a new unique value (a UUID,"
                    + " say) for each transfer, and the same value when you retry it");
        }
        return request.bodyToMono(TransferRequest.class)
                .flatMap(body -> body.problem()
                        .map(problem -> problem(HttpStatus.BAD_REQUEST, problem))
                        .orElseGet(() -> transfers.transfer(body).flatMap(transfer -> transfer.fulfils(body)
                                ? ServerResponse.ok().contentType(MediaType.APPLICATION_JSON).bodyValue(transfer)
                                // The key's recorded transfer is another one: the client reused a key.
                                : problem(HttpStatus.UNPROCESSABLE_CONTENT, "this Idempotency-Key was already used"
                                        + " for a different transfer; use a new key for a new transfer"))))
                .switchIfEmpty(Mono.defer(() -> problem(HttpStatus.BAD_REQUEST,
                        "a JSON body {\"from\": ..., \"to\": ..., \"amount\": ...} is required")))
                .onErrorResume(ServerWebInputException.class, e -> problem(HttpStatus.BAD_REQUEST, e.getReason()))
                .onErrorResume(TransferHandler::isRejection,
                        e -> problem(HttpStatus.UNPROCESSABLE_CONTENT, rejectionMessage(e)));
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

    private static Mono<ServerResponse> problem(HttpStatus status, String detail) {
        return ServerResponse.status(status).contentType(MediaType.APPLICATION_PROBLEM_JSON)
                .bodyValue(ProblemDetail.forStatusAndDetail(status, detail));
    }
}
