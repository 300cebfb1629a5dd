package dev.txstep.bench;

/**
 * A variant that runs in the harness's JVM: it supplies a {@link Load}, and this class times it the
 * same way for every such variant.
 */
abstract class InProcessVariant implements Variant {

    /**
     * Opens what one measurement needs (outside the timed window) and returns its workers, not yet
     * started.
     *
     * @param setting  concurrency and isolation
     * @param recorder where the workers report operations
     * @return the load
     * @throws Exception if it cannot be opened
     */
    abstract Load open(Setting setting, Recorder recorder) throws Exception;

    @Override
    public final Sample measure(Setting setting, Timing timing, int round) throws Exception {
        Recorder recorder = new Recorder();
        try (Load load = open(setting, recorder)) {
            load.start();
            Thread.sleep(timing.warmup().toMillis());
            ResourceMeter meter = ResourceMeter.start();
            recorder.open();
            Thread.sleep(timing.window().toMillis());
            Recorder.Window window = recorder.close();
            ResourceMeter.Usage usage = meter.stop(window.ops());
            load.stop();
            return new Sample(name(), setting, round, window, load.note(), usage);
        }
    }
}
