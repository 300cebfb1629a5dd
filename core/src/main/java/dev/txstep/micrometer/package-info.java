/**
 * Micrometer metrics for txstep: {@link dev.txstep.micrometer.MicrometerStepObserver}. Optional:
 * needs {@code io.micrometer:micrometer-core} on the class path.
 */
package dev.txstep.micrometer;
