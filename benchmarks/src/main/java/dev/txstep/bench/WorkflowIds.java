package dev.txstep.bench;

import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Fresh workflow ids: a prefix unique to the run and variant, then a counter, or (with
 * {@code --workflow-ids random}) 16 random hex digits. Every first execution gets an id no earlier
 * run or measurement used, so nothing it does is a replay.
 *
 * <p>Why random ids exist: counter ids that follow one another sort next to one another, so every
 * insert into the output table's primary key, and every read of a new id, lands on the same few
 * index pages; ids of real workflows (UUIDs, request keys) spread over the index.
 */
final class WorkflowIds {

    private static volatile boolean random;

    private final String prefix;
    private final AtomicLong next = new AtomicLong();

    /**
     * @param runId   the run's id
     * @param variant the variant's name
     */
    WorkflowIds(String runId, String variant) {
        this.prefix = variant + "-" + runId + "-";
    }

    /** Chooses, for the whole run, random ids ({@code true}) or counter ids. */
    static void configure(boolean randomIds) {
        random = randomIds;
    }

    /** @return a new id */
    String next() {
        if (random) {
            return prefix + String.format("%016x", ThreadLocalRandom.current().nextLong());
        }
        return prefix + next.incrementAndGet();
    }
}
