package dev.txstep.bench;

/**
 * One measurement: a variant under a setting in one round.
 *
 * @param variant the variant's name
 * @param setting concurrency and isolation
 * @param round   the round, from 1
 * @param window  what the timed window measured
 * @param note    what the variant wants the reader to know about this measurement (a limiter it
 *                observed, say), or null
 * @param usage   CPU time and allocation per operation over the window, or null where not metered
 *                (a variant in another process)
 */
public record Sample(String variant, Setting setting, int round, Recorder.Window window, String note,
        ResourceMeter.Usage usage) {

    /** A sample without resource figures. */
    public Sample(String variant, Setting setting, int round, Recorder.Window window, String note) {
        this(variant, setting, round, window, note, null);
    }
}
