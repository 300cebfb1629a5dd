/**
 * Not API. What differs between databases, as answers to questions of syntax and transport
 * ({@link dev.txstep.internal.dialect.Dialect}), one class per database, registered in
 * {@link dev.txstep.internal.dialect.Dialects}; and reading the database's error from a failure
 * ({@link dev.txstep.internal.dialect.DatabaseErrors}). A dialect knows no table.
 *
 * <p>Layer rule: imports {@code dev.txstep} (levels, keys, exceptions) and
 * {@code dev.txstep.internal}; never the store or the engine.
 */
package dev.txstep.internal.dialect;
