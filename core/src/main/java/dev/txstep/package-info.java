/**
 * txstep's API: what a caller calls. {@link dev.txstep.AsyncDatasource} (and its blocking facade
 * {@link dev.txstep.BlockingDatasource}) runs exactly-once transaction steps, configured by a
 * {@link dev.txstep.DatasourceConfig} and a step's {@link dev.txstep.DatasourceOptions}; a step's
 * function works through a {@link dev.txstep.TxSession}; every error is a
 * {@link dev.txstep.DatasourceException}, one subclass per documented outcome.
 *
 * <p>Extension points live beside it: {@code dev.txstep.spi} (for workflow runtimes and
 * frameworks), {@code dev.txstep.observe} (metrics and tracing), {@code dev.txstep.serialization}
 * (how outputs are recorded), {@code dev.txstep.micrometer}.
 *
 * <p>Layer rule: this package may import the extension packages and {@code dev.txstep.internal.*};
 * it delegates every step to {@code dev.txstep.internal.engine} and holds no SQL.
 */
package dev.txstep;
