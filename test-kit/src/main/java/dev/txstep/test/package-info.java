/**
 * txstep-test: fault-tests your own workflows. {@link dev.txstep.test.WorkflowTestKit} runs a
 * workflow uninterrupted, interrupted after each step, with each step's commit acknowledgement
 * lost, and as concurrent duplicates, on a real database, and checks results, commits and your row
 * counts.
 */
package dev.txstep.test;
