/**
 * Not API. The output table: every statement on {@code datasource_outputs}
 * ({@link dev.txstep.internal.store.OutputStore}) and its installation by Flyway
 * ({@link dev.txstep.internal.store.Migrator}). To change how an output row is read, inserted or
 * deleted, this is the package.
 *
 * <p>Layer rule: imports {@code dev.txstep} (keys, levels, exceptions), {@code dev.txstep.internal}
 * and {@code dev.txstep.internal.dialect}; never the engine.
 */
package dev.txstep.internal.store;
