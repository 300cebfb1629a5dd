/**
 * Not API: small helpers that know nothing of steps, tables or databases, which every layer may
 * use — the threads blocking work runs on ({@link dev.txstep.internal.WorkerThreads}), the check
 * for text a column cannot store ({@link dev.txstep.internal.Texts}), R2DBC URL parsing
 * ({@link dev.txstep.internal.R2dbcUrls}).
 *
 * <p>The layers below the API, each importing only the ones after it (and this package):
 * <ol>
 *   <li>{@code dev.txstep.internal.engine}: a step's control flow, and the assembly of a datasource;</li>
 *   <li>{@code dev.txstep.internal.store}: every statement on {@code datasource_outputs}, and its migration;</li>
 *   <li>{@code dev.txstep.internal.dialect}: what differs between databases, as syntax and transport.</li>
 * </ol>
 * Nothing below calls back up. Public types here and below are public only because another of
 * txstep's packages needs them; no module but core may import them.
 *
 * <p>Layer rule: imports {@code dev.txstep}'s exceptions only.
 */
package dev.txstep.internal;
