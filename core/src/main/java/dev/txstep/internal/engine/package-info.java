/**
 * Not API. A step's control flow ({@link dev.txstep.internal.engine.StepEngine}: routing, retries,
 * the recording attempt, the close gate) and its collaborators, each named for its job: the
 * user's function ({@code FunctionCall}), the output's text and its replay ({@code OutputCodec}),
 * error recording ({@code ErrorRecorder}), reporting ({@code StepReporter}), the attempt's
 * connection ({@code AttemptConnections}, {@code GatedConnection}). Also the one place options are
 * resolved ({@link dev.txstep.internal.engine.StepSpec#resolve}) and where a datasource is
 * assembled from its settings ({@link dev.txstep.internal.engine.DatasourceAssembly}).
 *
 * <p>Layer rule: imports {@code dev.txstep}, {@code dev.txstep.spi}, {@code dev.txstep.observe},
 * {@code dev.txstep.serialization}, {@code dev.txstep.internal}, {@code dev.txstep.internal.store}
 * and {@code dev.txstep.internal.dialect}. Writes no SQL on {@code datasource_outputs}.
 */
package dev.txstep.internal.engine;
