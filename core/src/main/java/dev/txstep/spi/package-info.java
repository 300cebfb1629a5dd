/**
 * For code that integrates txstep into a workflow runtime or a framework rather than calling it:
 * {@link dev.txstep.spi.WorkflowScope}, the per-execution state a runtime starts and steps find in
 * the Reactor {@code Context} (the reactor adapter's {@code Workflow.run} is one such runtime), and
 * {@link dev.txstep.spi.JdbcCoordinates}, the migration's JDBC URL derived from an R2DBC URL.
 *
 * <p>Layer rule: imports {@code dev.txstep} (keys and exceptions) and, for URL parsing,
 * {@code dev.txstep.internal}; nothing else of txstep.
 */
package dev.txstep.spi;
