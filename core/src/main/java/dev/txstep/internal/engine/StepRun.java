package dev.txstep.internal.engine;

import dev.txstep.StepKey;
import dev.txstep.observe.StepObserver;

/** One subscription of a step, as its report tells it: name, key, attempts, start time. */
final class StepRun {

    final String name;
    final long startNanos = System.nanoTime();
    /** Null for a step that records nothing (outside a workflow, or read-only). */
    StepKey key;
    int attempts = 1;
    /** Who hears how this step goes (see {@link StepObserver#stepStarted}). */
    StepObserver observer = StepObserver.NONE;

    StepRun(String name) {
        this.name = name;
    }

    /** Counts an attempt; the retry loop calls it with each attempt's number. */
    void attempt(int number) {
        attempts = number;
    }
}
