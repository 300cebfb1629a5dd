package dev.txstep.bench;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Fresh workflow ids: a prefix unique to the run and variant, then a counter. Every first execution
 * gets an id no earlier run or measurement used, so nothing it does is a replay.
 */
final class WorkflowIds {

    private final String prefix;
    private final AtomicLong next = new AtomicLong();

    /**
     * @param runId   the run's id
     * @param variant the variant's name
     */
    WorkflowIds(String runId, String variant) {
        this.prefix = variant + "-" + runId + "-";
    }

    /** @return a new id */
    String next() {
        return prefix + next.incrementAndGet();
    }
}
