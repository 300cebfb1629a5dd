package dev.txstep.internal;

import java.util.BitSet;

/**
 * What the first step of a workflow execution learns as it begins: the ids of the workflow's
 * recorded steps and, if the step itself is among them, its row.
 *
 * @param ids     the recorded step ids
 * @param current the loading step's own row, or null if it is not recorded
 */
record LoadedSteps(BitSet ids, OutputRow current) {
}
