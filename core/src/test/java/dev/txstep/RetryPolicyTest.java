package dev.txstep;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** {@link RetryPolicy} and its builder: defaults, values kept, each bad setting named. */
class RetryPolicyTest {

    @Test
    void theBuilderStartsFromTheDefaultsAndKeepsWhatItIsGiven() {
        assertEquals(RetryPolicy.defaults(), RetryPolicy.builder().build());
        RetryPolicy policy = RetryPolicy.builder().maxAttempts(3).initialBackoff(Duration.ofMillis(5))
                .maxBackoff(Duration.ofMillis(50)).jitter(0.25).build();
        assertEquals(new RetryPolicy(3, Duration.ofMillis(5), Duration.ofMillis(50), 0.25), policy);
        assertEquals(policy, RetryPolicy.defaults().withMaxAttempts(3)
                .withBackoff(Duration.ofMillis(5), Duration.ofMillis(50)).withJitter(0.25));
        assertEquals(1, RetryPolicy.none().maxAttempts());
    }

    @Test
    void eachBadSettingIsNamed() {
        assertNamed("maxAttempts", () -> RetryPolicy.builder().maxAttempts(0));
        assertNamed("initialBackoff", () -> RetryPolicy.builder().initialBackoff(Duration.ZERO));
        assertNamed("initialBackoff", () -> RetryPolicy.builder().initialBackoff(null));
        assertNamed("maxBackoff", () -> RetryPolicy.builder().maxBackoff(Duration.ofMillis(-1)));
        assertNamed("jitter", () -> RetryPolicy.builder().jitter(1.5));
        assertNamed("jitter", () -> RetryPolicy.builder().jitter(Double.NaN));
        assertNamed("maxBackoff", () -> RetryPolicy.builder().initialBackoff(Duration.ofSeconds(5))
                .maxBackoff(Duration.ofSeconds(1)).build());
    }

    private static void assertNamed(String setting, org.junit.jupiter.api.function.Executable call) {
        InvalidConfigurationException e = assertThrows(InvalidConfigurationException.class, call);
        assertTrue(e.getMessage().contains(setting), e.getMessage());
    }
}
