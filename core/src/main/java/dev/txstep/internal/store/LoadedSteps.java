package dev.txstep.internal.store;

import dev.txstep.StepKey;
import io.r2dbc.spi.Result;
import java.util.BitSet;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * What the first step of a workflow execution learns as it begins: the ids of the workflow's
 * recorded steps and, if the step itself is among them, its row.
 *
 * @param ids     the recorded step ids
 * @param current the loading step's own row, or null if it is not recorded
 */
public record LoadedSteps(BitSet ids, OutputRow current) {

    /** Reads the results of the store's load query (and any row-less results around it, as a BEGIN's). */
    static Mono<LoadedSteps> read(Publisher<? extends Result> results, StepKey key) {
        BitSet ids = new BitSet();
        OutputRow[] current = new OutputRow[1];
        return Flux.from(results)
                .concatMap(result -> result.map((row, meta) -> {
                    int stepId = row.get(0, Integer.class);
                    ids.set(stepId);
                    if (stepId == key.stepId()) {
                        current[0] = OutputRows.read(key, row, 1);
                    }
                    return stepId;
                }))
                .then(Mono.fromSupplier(() -> new LoadedSteps(ids, current[0])));
    }
}
