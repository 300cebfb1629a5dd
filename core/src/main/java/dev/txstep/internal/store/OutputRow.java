package dev.txstep.internal.store;

import dev.txstep.StepKey;

/**
 * One row of {@code datasource_outputs} as written or read.
 *
 * @param key           the step's key
 * @param stepName      the step's name
 * @param output        the serialized output, or null
 * @param error         the serialized error, or null
 * @param serialization the serializer's name
 * @param createdAt     epoch milliseconds
 */
public record OutputRow(StepKey key, String stepName, String output, String error, String serialization,
        long createdAt) {
}
