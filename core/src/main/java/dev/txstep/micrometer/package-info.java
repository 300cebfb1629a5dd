/**
 * Micrometer for txstep: meters ({@link dev.txstep.micrometer.MicrometerStepObserver}, needs
 * {@code io.micrometer:micrometer-core}) and observations, hence tracing spans
 * ({@link dev.txstep.micrometer.ObservationStepObserver}, needs
 * {@code io.micrometer:micrometer-observation}). Both optional.
 *
 * <p>Layer rule: imports {@code dev.txstep} and {@code dev.txstep.observe}; nothing internal.
 */
package dev.txstep.micrometer;
