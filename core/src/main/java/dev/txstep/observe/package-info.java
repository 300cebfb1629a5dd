/**
 * How steps are observed, for metrics and tracing: a {@link dev.txstep.observe.StepObserver}
 * given to {@code DatasourceConfig.Builder.observer} hears one {@link dev.txstep.observe.StepEvent}
 * per step, with its {@link dev.txstep.observe.StepOutcome}, and each retry.
 * {@code dev.txstep.micrometer.MicrometerStepObserver} is the Micrometer implementation.
 *
 * <p>Layer rule: imports {@code dev.txstep} only.
 */
package dev.txstep.observe;
