package dev.txstep.internal.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.txstep.RetriesExhaustedException;
import dev.txstep.RetryPolicy;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

/** {@link Retrying}: attempt numbering, what is retried, when it gives up, and the backoff's bounds. */
class RetryingTest {

    private static final class Transient extends RuntimeException {
        private static final long serialVersionUID = 1L;
    }

    private final RetryPolicy fast = RetryPolicy.defaults().withMaxAttempts(4)
            .withBackoff(Duration.ofMillis(1), Duration.ofMillis(4));
    private final Retrying retrying = new Retrying(fast, error -> error instanceof Transient);

    @Test
    void retriesTransientFailuresWithNumberedAttemptsUntilOneSucceeds() {
        List<Integer> attempts = new CopyOnWriteArrayList<>();
        List<Throwable> retried = new CopyOnWriteArrayList<>();
        String result = retrying.run(() -> "s", retried::add, n -> {
            attempts.add(n);
            return n < 3 ? Mono.error(new Transient()) : Mono.just("ok on " + n);
        }).block(Duration.ofSeconds(5));
        assertEquals("ok on 3", result);
        assertEquals(List.of(1, 2, 3), attempts);
        assertEquals(2, retried.size(), "each failure that was retried is reported");
    }

    @Test
    void givesUpAfterMaxAttemptsWithTheLastFailureAsCause() {
        List<Integer> attempts = new CopyOnWriteArrayList<>();
        Transient last = new Transient();
        RetriesExhaustedException e = assertThrows(RetriesExhaustedException.class, () -> retrying.run(() -> "(wf, 3)", retried -> { },
                n -> {
                    attempts.add(n);
                    return Mono.error(n == 4 ? last : new Transient());
                }).block(Duration.ofSeconds(5)));
        assertEquals(List.of(1, 2, 3, 4), attempts);
        assertEquals(4, e.attempts());
        assertSame(last, e.getCause());
        assertTrue(e.getMessage().contains("(wf, 3)"), e.getMessage());
    }

    @Test
    void passesOtherFailuresThroughAtOnce() {
        IllegalStateException boom = new IllegalStateException("boom");
        List<Integer> attempts = new CopyOnWriteArrayList<>();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> retrying.run(() -> "s", retried -> { }, n -> {
            attempts.add(n);
            return Mono.<String>error(boom);
        }).block(Duration.ofSeconds(5)));
        assertSame(boom, e);
        assertEquals(List.of(1), attempts);
    }

    @Test
    void oneAttemptMeansNoRetry() {
        Retrying none = new Retrying(RetryPolicy.none(), error -> error instanceof Transient);
        RetriesExhaustedException e = assertThrows(RetriesExhaustedException.class,
                () -> none.run(() -> "s", retried -> { }, n -> Mono.error(new Transient())).block(Duration.ofSeconds(5)));
        assertEquals(1, e.attempts());
    }

    @Test
    void backoffDoublesUpToTheMaximumWithoutJitter() {
        Retrying exact = new Retrying(RetryPolicy.defaults().withJitter(0)
                .withBackoff(Duration.ofMillis(10), Duration.ofMillis(100)), error -> true);
        assertEquals(Duration.ofMillis(10), exact.backoff(1));
        assertEquals(Duration.ofMillis(20), exact.backoff(2));
        assertEquals(Duration.ofMillis(80), exact.backoff(4));
        assertEquals(Duration.ofMillis(100), exact.backoff(5));
        assertEquals(Duration.ofMillis(100), exact.backoff(64), "no overflow for large attempt numbers");
        assertEquals(Duration.ofMillis(100), exact.backoff(Integer.MAX_VALUE));
    }

    @Test
    void jitterStaysWithinItsShareAndTheMaximum() {
        Retrying jittered = new Retrying(RetryPolicy.defaults().withJitter(0.5)
                .withBackoff(Duration.ofMillis(10), Duration.ofMillis(100)), error -> true);
        for (int i = 0; i < 1000; i++) {
            long first = jittered.backoff(1).toNanos();
            assertTrue(first >= 5_000_000 && first <= 15_000_000, "first wait " + first);
            long capped = jittered.backoff(10).toNanos();
            assertTrue(capped >= 50_000_000 && capped <= 100_000_000, "capped wait " + capped);
        }
    }
}
