package dev.txstep.bench;

import io.r2dbc.pool.ConnectionPool;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.R2dbcRollbackException;
import io.r2dbc.spi.Result;
import java.time.Duration;
import java.util.concurrent.atomic.LongAdder;
import reactor.core.publisher.Mono;
import reactor.util.retry.Retry;
import reactor.util.retry.RetryBackoffSpec;

/**
 * Variant 1, the baseline every ratio divides by: the benchmark's transaction through the same
 * r2dbc-pool, with no output table and no workflow. It retries serialization failures and deadlocks
 * (PostgreSQL reports both as SQLSTATE class 40, which R2DBC maps to
 * {@link R2dbcRollbackException}) with the same backoff as txstep's default policy, so SERIALIZABLE
 * numbers compare like with like.
 */
final class PlainR2dbcVariant extends InProcessVariant {

    /** As {@code RetryPolicy.defaults()}: 10 attempts, 10 ms doubling to 2 s, jitter 0.5. */
    private static final RetryBackoffSpec RETRY = Retry.backoff(9, Duration.ofMillis(10))
            .maxBackoff(Duration.ofSeconds(2))
            .jitter(0.5)
            .filter(R2dbcRollbackException.class::isInstance);

    private final Postgres postgres;

    PlainR2dbcVariant(Postgres postgres) {
        this.postgres = postgres;
    }

    @Override
    public String name() {
        return "r2dbc-baseline";
    }

    @Override
    public String description() {
        return "plain R2DBC transaction through r2dbc-pool (BEGIN, UPDATE, INSERT, COMMIT); nothing recorded";
    }

    @Override
    Load open(Setting setting, Recorder recorder) {
        ConnectionPool pool = R2dbcPools.open(postgres, setting.poolSize());
        LongAdder retries = new LongAdder();
        ReactiveWorkers workers = new ReactiveWorkers(setting.concurrency(), () -> {
            long started = System.nanoTime();
            return transfer(pool, setting.isolation())
                    .retryWhen(RETRY.doBeforeRetry(signal -> retries.increment()))
                    .doOnSuccess(ignored -> recorder.completed(System.nanoTime() - started));
        }, recorder);
        return Load.of(workers, () -> {
            long n = retries.sum();
            return n == 0 ? null : n + " retries (warm-up included)";
        }, () -> pool.disposeLater().block());
    }

    private static Mono<Void> transfer(ConnectionPool pool, Isolation isolation) {
        int account = Transfers.randomAccount();
        long amount = Transfers.randomAmount();
        return Mono.usingWhen(pool.create(),
                connection -> Mono.from(connection.beginTransaction(isolation.r2dbc()))
                        .then(rowsUpdated(connection.createStatement(Transfers.UPDATE)
                                .bind(0, amount).bind(1, account).execute()))
                        .then(rowsUpdated(connection.createStatement(Transfers.INSERT)
                                .bind(0, account).bind(1, amount).execute()))
                        .then(Mono.from(connection.commitTransaction())),
                Connection::close,
                (connection, error) -> Mono.from(connection.rollbackTransaction())
                        .onErrorResume(ignored -> Mono.empty())
                        .then(Mono.from(connection.close())),
                connection -> Mono.from(connection.rollbackTransaction())
                        .onErrorResume(ignored -> Mono.empty())
                        .then(Mono.from(connection.close())));
    }

    private static Mono<Long> rowsUpdated(org.reactivestreams.Publisher<? extends Result> results) {
        return Mono.from(results).flatMap(result -> Mono.from(result.getRowsUpdated()));
    }
}
