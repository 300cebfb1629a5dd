package dev.txstep.internal;

import java.time.Duration;
import java.util.BitSet;
import reactor.core.publisher.Mono;

/**
 * What one workflow execution knows about its recorded steps: the ids recorded when the
 * execution first asked. Loaded once per execution (concurrent first steps share the query), so
 * a first execution pays one query per workflow rather than one per step.
 *
 * <p>Never wrong in a harmful way: a step recorded after the load, by another executor, is found
 * by the primary key when this execution tries to record it too.
 */
final class RecordedSteps {

    private final Mono<BitSet> ids;

    RecordedSteps(Mono<BitSet> load) {
        // Cache a successful load for the execution; let a failed load be tried again by the next step.
        this.ids = load.cache(value -> Duration.ofMillis(Long.MAX_VALUE), error -> Duration.ZERO, () -> Duration.ZERO);
    }

    /** Emits whether the step was recorded when the execution loaded its ids. */
    Mono<Boolean> contains(int stepId) {
        return ids.map(set -> set.get(stepId));
    }
}
