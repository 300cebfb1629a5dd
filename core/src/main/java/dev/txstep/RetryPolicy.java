package dev.txstep;

import java.time.Duration;

/**
 * How a step is retried after a retryable failure: a serialization failure (SQLSTATE 40001), a
 * deadlock (40P01) or a lost connection. The whole step is retried — a new transaction, the
 * function run again — after a jittered exponential backoff: the n-th retry waits about
 * {@code initialBackoff * 2^(n-1)}, at most {@code maxBackoff}, randomized by {@code jitter}.
 * Errors of the step's function are never retried: they are its outcome.
 *
 * @param maxAttempts    attempts in all, the first included; at least 1 (1 means no retry)
 * @param initialBackoff the wait before the first retry; positive
 * @param maxBackoff     the longest wait; at least {@code initialBackoff}
 * @param jitter         the randomized share of each wait, from 0 (none) to 1 (anything from 0
 *                       to twice the wait)
 */
public record RetryPolicy(int maxAttempts, Duration initialBackoff, Duration maxBackoff, double jitter) {

    private static final RetryPolicy DEFAULTS =
            new RetryPolicy(10, Duration.ofMillis(10), Duration.ofSeconds(2), 0.5);

    /**
     * Validates the policy.
     *
     * @param maxAttempts    attempts in all, at least 1
     * @param initialBackoff the first wait, positive
     * @param maxBackoff     the longest wait, at least {@code initialBackoff}
     * @param jitter         between 0 and 1
     * @throws InvalidConfigurationException naming the field out of range
     */
    public RetryPolicy {
        checkAttempts(maxAttempts);
        checkPositive("initialBackoff", initialBackoff);
        if (maxBackoff == null || maxBackoff.compareTo(initialBackoff) < 0) {
            throw new InvalidConfigurationException("retry maxBackoff must be at least initialBackoff ("
                    + initialBackoff + "), was " + maxBackoff);
        }
        checkJitter(jitter);
    }

    // The checks the constructor and the builder share: the builder checks each setting as it is
    // given, the constructor all of them together.

    private static void checkAttempts(int attempts) {
        if (attempts < 1) {
            throw new InvalidConfigurationException("retry maxAttempts must be at least 1, was " + attempts);
        }
    }

    private static void checkPositive(String setting, Duration backoff) {
        if (backoff == null || backoff.isNegative() || backoff.isZero()) {
            throw new InvalidConfigurationException("retry " + setting + " must be positive, was " + backoff);
        }
    }

    private static void checkJitter(double jitter) {
        if (!(jitter >= 0.0 && jitter <= 1.0)) {
            throw new InvalidConfigurationException("retry jitter must be between 0 and 1, was " + jitter);
        }
    }

    /**
     * A builder starting from the defaults, in the style of r2dbc-pool's configuration builders:
     * each method checks its argument at once.
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * The default: 10 attempts, backoff from 10 ms up to 2 s, jitter 0.5.
     *
     * @return the default policy
     */
    public static RetryPolicy defaults() {
        return DEFAULTS;
    }

    /**
     * No retries: the first retryable failure surfaces as {@link RetriesExhaustedException}.
     *
     * @return a policy of one attempt
     */
    public static RetryPolicy none() {
        return DEFAULTS.withMaxAttempts(1);
    }

    /**
     * @param attempts attempts in all, at least 1
     * @return this policy with another attempt count
     */
    public RetryPolicy withMaxAttempts(int attempts) {
        return new RetryPolicy(attempts, initialBackoff, maxBackoff, jitter);
    }

    /**
     * @param initial the first wait, positive
     * @param max     the longest wait, at least {@code initial}
     * @return this policy with other waits
     */
    public RetryPolicy withBackoff(Duration initial, Duration max) {
        return new RetryPolicy(maxAttempts, initial, max, jitter);
    }

    /**
     * @param jitterFactor between 0 and 1
     * @return this policy with another jitter
     */
    public RetryPolicy withJitter(double jitterFactor) {
        return new RetryPolicy(maxAttempts, initialBackoff, maxBackoff, jitterFactor);
    }

    /**
     * Builds a {@link RetryPolicy}. Each method validates its argument at once and throws
     * {@link InvalidConfigurationException} naming the setting; {@link #build()} checks them
     * together. Not thread-safe.
     */
    public static final class Builder {

        private int maxAttempts = DEFAULTS.maxAttempts;
        private Duration initialBackoff = DEFAULTS.initialBackoff;
        private Duration maxBackoff = DEFAULTS.maxBackoff;
        private double jitter = DEFAULTS.jitter;

        private Builder() {
        }

        /**
         * Attempts in all, the first included. Defaults to 10; at least 1.
         *
         * @param attempts the number of attempts
         * @return this builder
         * @throws InvalidConfigurationException if less than 1
         */
        public Builder maxAttempts(int attempts) {
            checkAttempts(attempts);
            this.maxAttempts = attempts;
            return this;
        }

        /**
         * The wait before the first retry. Defaults to 10 ms; must be positive.
         *
         * @param backoff the first wait
         * @return this builder
         * @throws InvalidConfigurationException if null, zero or negative
         */
        public Builder initialBackoff(Duration backoff) {
            checkPositive("initialBackoff", backoff);
            this.initialBackoff = backoff;
            return this;
        }

        /**
         * The longest wait. Defaults to 2 s; must be positive and, at {@link #build()}, at least the
         * initial backoff.
         *
         * @param backoff the longest wait
         * @return this builder
         * @throws InvalidConfigurationException if null, zero or negative
         */
        public Builder maxBackoff(Duration backoff) {
            checkPositive("maxBackoff", backoff);
            this.maxBackoff = backoff;
            return this;
        }

        /**
         * The randomized share of each wait. Defaults to 0.5; from 0 to 1.
         *
         * @param factor the jitter
         * @return this builder
         * @throws InvalidConfigurationException if outside [0, 1]
         */
        public Builder jitter(double factor) {
            checkJitter(factor);
            this.jitter = factor;
            return this;
        }

        /**
         * @return the policy
         * @throws InvalidConfigurationException if the maximum backoff is below the initial one
         */
        public RetryPolicy build() {
            return new RetryPolicy(maxAttempts, initialBackoff, maxBackoff, jitter);
        }
    }
}
