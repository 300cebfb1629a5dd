package dev.txstep.bench;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The load mode: every chosen variant under every setting, round after round. Within a round,
 * settings are taken in turn and, for each, every variant runs once (round-robin), starting each
 * round one variant later, so no variant always runs first, right after the machine's quietest
 * moment or right after another variant's vacuum debt. Medians are taken over rounds.
 */
final class LoadBenchmark {

    private final BenchOptions options;
    private final String runId;

    LoadBenchmark(BenchOptions options, String runId) {
        this.options = options;
        this.runId = runId;
    }

    /**
     * Runs the grid and writes the results.
     *
     * @param out the folder for results.json, results.md and ratios.png
     * @throws Exception if set-up fails (a failing measurement is reported, not thrown)
     */
    void run(Path out) throws Exception {
        Postgres postgres = options.postgres();
        BenchDatabase database = new BenchDatabase(postgres);
        // scripts/bench.sh --mode instances: one JVM prepares the database (bench.setupOnly), then
        // several measure against it at once (bench.instance), none dropping what the others use.
        boolean instance = System.getProperty("bench.instance") != null;
        if (!instance) {
            database.create();
        }
        TxStepDatasources.install(postgres);
        if (Boolean.getBoolean("bench.setupOnly")) {
            return;
        }
        ResourceMeter.configure(postgres);
        WorkflowIds.configure(options.randomWorkflowIds());
        List<Variant> variants = variants(postgres);
        try {
            Map<String, String> environment = Environment.describe(database,
                    options.variants().contains("dbos-ts") ? options.node() : null);
            Results results = new Results(runId, options.asMap(), environment);
            variants.forEach(variant -> results.describe(variant.name(), variant.description()));
            measure(variants, results);
            results.summarize(BenchOptions.VARIANTS.get(0), BenchOptions.LIMIT);
            new ResultsWriter(out).write(results);
            Progress.log("results in %s", out.toAbsolutePath());
        } finally {
            for (Variant variant : variants) {
                variant.close();
            }
            if (!options.keep() && !instance) {
                database.drop();
            }
        }
    }

    private void measure(List<Variant> variants, Results results) {
        Timing timing = options.timing();
        int total = options.rounds() * options.concurrencies().size() * options.isolations().size()
                * options.outputBytes().size() * variants.size();
        int warmUps = options.warmupRound()
                ? options.isolations().size() * (int) variants.stream().filter(v -> v instanceof InProcessVariant).count()
                : 0;
        Progress.log("%d measurements (+ %d per warm-up pass, up to %d passes) of %.1f s after %.1f s warm-up:"
                        + " about %d minutes", total, warmUps, options.warmupMaxPasses(),
                timing.window().toMillis() / 1000.0, timing.warmup().toMillis() / 1000.0,
                Math.round((total + warmUps) * (timing.window().toMillis() + timing.warmup().toMillis() + 1500)
                        / 60_000.0));
        warmUp(variants, timing);
        int done = 0;
        for (int round = 1; round <= options.rounds(); round++) {
            for (Setting setting : settings()) {
                for (int i = 0; i < variants.size(); i++) {
                    Variant variant = variants.get((i + round - 1) % variants.size());
                    done++;
                    try {
                        Sample sample = variant.measure(setting, timing, round);
                        results.add(sample);
                        Recorder.Window w = sample.window();
                        ResourceMeter.Usage u = sample.usage();
                        Progress.log("[%d/%d] round %d %-16s %-22s %9.0f ops/s  p50 %7.2f ms  p99 %7.2f ms%s%s%s",
                                done, total, round, variant.name(), setting, w.opsPerSecond(), w.p50Ms(), w.p99Ms(),
                                u == null ? "" : String.format("  cpu/op jvm %.0f µs pg %.0f µs  alloc/op %.1f KB"
                                                + "  switches/op %.1f  gc %.1f%% jit %.0f%%",
                                        u.jvmCpuMicros(), u.postgresCpuMicros(), u.allocatedBytes() / 1024,
                                        u.jvmContextSwitches(), u.gcPercent(), u.jitPercent()),
                                w.errors() == 0 ? "" : "  errors " + w.errors() + " (" + w.firstError() + ")",
                                sample.note() == null ? "" : "  [" + sample.note() + "]");
                    } catch (Exception e) {
                        results.fail(variant.name(), setting, round, e);
                        Progress.log("[%d/%d] round %d %-16s %-22s FAILED: %s", done, total, round, variant.name(),
                                setting, e);
                    }
                }
            }
        }
    }

    /** Every cell of the grid, in the order a round takes them: concurrency, isolation, output size. */
    private List<Setting> settings() {
        List<Setting> settings = new ArrayList<>();
        for (int concurrency : options.concurrencies()) {
            for (Isolation isolation : options.isolations()) {
                for (int outputBytes : options.outputBytes()) {
                    settings.add(new Setting(concurrency, isolation, outputBytes));
                }
            }
        }
        return settings;
    }

    /**
     * Round 0, not recorded: every in-process variant once per isolation level at the highest
     * concurrency, so round 1 does not measure the JIT compiling the code paths (nor the replay
     * variant recording its workflows). The Node variant warms up in each of its own processes.
     *
     * <p>One pass is not always enough: on a loaded 2-core machine C2 was measured still compiling
     * for most of a core's time in rounds 1 and 2 after one pass (JIT % in the samples), which took
     * up to half of the baseline's throughput in those rounds. So passes repeat while any
     * measurement of the last pass spent more than {@code --warmup-jit-percent} of its window
     * compiling, up to {@code --warmup-max-passes}.
     */
    private void warmUp(List<Variant> variants, Timing timing) {
        if (!options.warmupRound()) {
            return;
        }
        int concurrency = options.concurrencies().stream().mapToInt(Integer::intValue).max().orElseThrow();
        for (int pass = 1; pass <= options.warmupMaxPasses(); pass++) {
            double maxJit = 0;
            for (Isolation isolation : options.isolations()) {
                for (Variant variant : variants) {
                    if (variant instanceof InProcessVariant) {
                        Setting setting = new Setting(concurrency, isolation, options.outputBytes().get(0));
                        try {
                            Sample sample = variant.measure(setting, timing, 0);
                            double jit = sample.usage() == null ? 0 : sample.usage().jitPercent();
                            maxJit = Math.max(maxJit, jit);
                            Progress.log("[warm-up %d] %-16s %-22s %9.0f ops/s  jit %.0f%% (not recorded)", pass,
                                    variant.name(), setting, sample.window().opsPerSecond(), jit);
                        } catch (Exception e) {
                            Progress.log("[warm-up %d] %-16s %-22s FAILED: %s", pass, variant.name(), setting, e);
                        }
                    }
                }
            }
            if (maxJit <= options.warmupJitPercent()) {
                return;
            }
            if (pass < options.warmupMaxPasses()) {
                Progress.log("[warm-up] the JIT compiled for up to %.0f%% of a window (limit %.0f%%): another pass",
                        maxJit, options.warmupJitPercent());
            } else {
                Progress.log("[warm-up] the JIT still compiled for up to %.0f%% of a window after %d passes;"
                        + " round 1 may measure compilation", maxJit, pass);
            }
        }
    }

    private List<Variant> variants(Postgres postgres) {
        int steps = options.stepsPerWorkflow();
        List<Variant> variants = new ArrayList<>();
        for (String name : options.variants()) {
            variants.add(switch (name) {
                case "r2dbc-baseline" -> new PlainR2dbcVariant(postgres);
                case "limit" -> limit(postgres, steps, LimitVariant.Kind.LITERAL);
                case "limit-bound" -> limit(postgres, steps, LimitVariant.Kind.BOUND);
                case "limit-read" -> limit(postgres, steps, LimitVariant.Kind.READ);
                case "txstep-first" -> new TxStepFirstRunVariant(postgres, steps, runId);
                case "txstep-replay" -> new TxStepReplayVariant(postgres, steps, options.replayWorkflows(), runId);
                case "txstep-blocking" -> {
                    TxStepDatasources.install(postgres, BenchDatabase.BLOCKING_SCHEMA);
                    yield new TxStepBlockingVariant(postgres, steps, options.virtualCallerThreads(), runId);
                }
                case "dbos-java" -> new DbosJavaVariant(postgres, steps, runId);
                case "dbos-ts" -> {
                    DbosTsVariant ts = new DbosTsVariant(postgres, options.node(), options.nodeDirectory(), steps, runId);
                    ts.checkInstalled();
                    yield ts;
                }
                default -> throw new IllegalArgumentException("unknown variant " + name);
            });
        }
        return variants;
    }

    private LimitVariant limit(Postgres postgres, int steps, LimitVariant.Kind kind) {
        // txstep's own migration makes the limit's table: same columns, key and indexes.
        TxStepDatasources.install(postgres, kind.schema());
        return new LimitVariant(postgres, steps, runId, kind);
    }
}
