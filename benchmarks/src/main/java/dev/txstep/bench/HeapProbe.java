package dev.txstep.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;

/**
 * Heap in use after a forced full collection: what is still reachable, without the garbage a
 * running workload leaves between collections.
 */
final class HeapProbe {

    private static final MemoryMXBean MEMORY = ManagementFactory.getMemoryMXBean();

    private HeapProbe() {
    }

    /**
     * Collects twice (the first collection may leave objects whose finalization or reference
     * processing frees more) and reads the heap in use.
     *
     * @return bytes in use
     */
    static long usedAfterGc() {
        MEMORY.gc();
        MEMORY.gc();
        return MEMORY.getHeapMemoryUsage().getUsed();
    }
}
