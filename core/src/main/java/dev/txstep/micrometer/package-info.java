/**
 * Micrometer metrics for txstep: {@link dev.txstep.micrometer.MicrometerStepObserver}. Optional:
 * needs {@code io.micrometer:micrometer-core} on the class path.
 *
 * <p>Layer rule: imports {@code dev.txstep} and {@code dev.txstep.observe}; nothing internal.
 */
package dev.txstep.micrometer;
