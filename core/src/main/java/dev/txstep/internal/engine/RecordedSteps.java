package dev.txstep.internal.engine;

import java.util.BitSet;
import java.util.concurrent.atomic.AtomicReference;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * What one workflow execution knows about its recorded steps: the ids recorded when the
 * execution's first step asked. That step loads them on its own connection, in the same round
 * trip as its {@code BEGIN}; steps subscribed meanwhile wait for the load and later steps use it
 * at once. So a first execution pays no extra query and no extra connection for the check.
 *
 * <p>Never wrong in a harmful way: a step recorded after the load, by another executor, is found
 * by the primary key when this execution tries to record it too. A load that fails (or is
 * cancelled) is forgotten, so the next step loads again; the steps that waited for it read their
 * own rows instead.
 */
final class RecordedSteps {

    private final AtomicReference<Sinks.One<BitSet>> load = new AtomicReference<>();
    private volatile BitSet ids;

    /** The loaded ids, or null before a load succeeded. */
    BitSet snapshot() {
        return ids;
    }

    /** Claims the load: returns the sink to complete, or null if another step is loading. */
    Sinks.One<BitSet> claim() {
        Sinks.One<BitSet> sink = Sinks.one();
        return load.compareAndSet(null, sink) ? sink : null;
    }

    /** The ids once the current load completes; empty if it fails or none is running. */
    Mono<BitSet> awaitLoad() {
        Sinks.One<BitSet> sink = load.get();
        return sink == null ? Mono.empty() : sink.asMono().onErrorResume(e -> Mono.empty());
    }

    void loaded(Sinks.One<BitSet> sink, BitSet loaded) {
        ids = loaded;
        sink.tryEmitValue(loaded);
    }

    /** Forgets a load that ended without ids (an error, a cancellation); a later step loads again. */
    void abandon(Sinks.One<BitSet> sink) {
        if (ids == null) {
            load.compareAndSet(sink, null);
            sink.tryEmitError(new IllegalStateException("the load of recorded step ids was abandoned"));
        }
    }
}
