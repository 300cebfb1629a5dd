package dev.txstep.internal.engine;

import dev.txstep.RetriesExhaustedException;
import dev.txstep.RetryPolicy;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Consumer;
import java.util.function.IntFunction;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;

/**
 * Runs attempts of a step under a {@link RetryPolicy}: a retryable failure waits a jittered
 * exponential backoff and subscribes the next attempt; other failures pass through; the last
 * retryable failure becomes {@link RetriesExhaustedException}.
 *
 * <p>Written as a chain of {@code onErrorResume} rather than {@code retryWhen}: a step succeeds on
 * its first attempt almost always, and {@code retryWhen} builds a companion sink and subscriber for
 * every subscription, which showed in profiles of the step's hot path. Here the happy path costs one
 * {@code onErrorResume}. Each attempt knows its number, which the step uses to decide what to read.
 */
final class Retrying {

    private static final Logger LOG = LoggerFactory.getLogger(Retrying.class);

    private final RetryPolicy policy;
    private final Predicate<Throwable> retryable;

    Retrying(RetryPolicy policy, Predicate<Throwable> retryable) {
        this.policy = policy;
        this.retryable = retryable;
    }

    /**
     * @param step    names the step in messages; called only when there is something to say
     * @param retried told of each retryable failure that will be retried
     * @param attempt builds attempt {@code n} (1 for the first); subscribed once per attempt
     */
    <T> Mono<T> run(Supplier<String> step, Consumer<Throwable> retried, IntFunction<Mono<T>> attempt) {
        return attempt(1, step, retried, attempt);
    }

    private <T> Mono<T> attempt(int n, Supplier<String> step, Consumer<Throwable> retried, IntFunction<Mono<T>> attempt) {
        return Mono.defer(() -> attempt.apply(n)).onErrorResume(retryable, error -> {
            if (n >= policy.maxAttempts()) {
                LOG.warn("step {} gave up after {} attempts: {}", step.get(), n, error.toString());
                return Mono.error(new RetriesExhaustedException(step.get(), n, error));
            }
            Duration wait = backoff(n);
            LOG.debug("retrying step {} in {} after {}", step.get(), wait, error.toString());
            retried.accept(error);
            return Mono.delay(wait).then(attempt(n + 1, step, retried, attempt));
        });
    }

    /** The wait after attempt {@code n}: initial × 2^(n-1), at most the maximum, then jittered. */
    Duration backoff(int n) {
        long initial = policy.initialBackoff().toNanos();
        long max = policy.maxBackoff().toNanos();
        long base = n - 1 >= 62 || initial > (max >> Math.min(n - 1, 62)) ? max : Math.min(max, initial << (n - 1));
        double spread = policy.jitter() * base;
        long jittered = base + (long) ((ThreadLocalRandom.current().nextDouble() * 2 - 1) * spread);
        return Duration.ofNanos(Math.max(0, Math.min(max, jittered)));
    }
}
