/**
 * How step outputs become the text recorded in {@code datasource_outputs.output} and back: the
 * {@link dev.txstep.serialization.Serializer} SPI and its default,
 * {@link dev.txstep.serialization.JacksonSerializer}, which restores only the types it is told to
 * trust.
 *
 * <p>Layer rule: imports {@code dev.txstep} (its exceptions) only.
 */
package dev.txstep.serialization;
