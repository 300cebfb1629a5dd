package dev.txstep.bench;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.Set;
import java.util.function.ToDoubleFunction;
import java.util.stream.Collectors;

/**
 * One variant under one setting, over all rounds: medians, and the ratio to the baseline.
 *
 * <p>The ratio is the median over rounds of (this variant's ops/s ÷ the baseline's ops/s in the same
 * round and setting): both were measured minutes apart on the same machine, so a round that the
 * machine's other load slowed down slows both, and the median drops rounds where it hit only one.
 *
 * @param variant      the variant
 * @param setting      concurrency and isolation
 * @param rounds       samples summarized
 * @param opsPerSecond median throughput
 * @param minOps       lowest round's throughput
 * @param maxOps       highest round's throughput
 * @param p50Ms        median of the rounds' median latencies
 * @param p99Ms        median of the rounds' 99th percentile latencies
 * @param ratio        median per-round ratio to the baseline, empty where no baseline ran
 * @param errors       failed operations, all rounds
 * @param notes        the samples' distinct notes, joined
 * @param ratioToLimit median per-round ratio to the limit variant (same pairing as {@code ratio}),
 *                     empty where the limit did not run
 * @param usage        medians over rounds of the samples' per-operation CPU and allocation, empty
 *                     where no sample was metered
 */
public record SummaryRow(String variant, Setting setting, int rounds, double opsPerSecond, double minOps,
        double maxOps, double p50Ms, double p99Ms, OptionalDouble ratio, long errors, String notes,
        OptionalDouble ratioToLimit, Optional<ResourceMeter.Usage> usage) {

    /**
     * Summarizes samples with ratios to the baseline only.
     *
     * @param samples  every sample of the run
     * @param baseline the baseline's variant name
     * @return the rows
     */
    public static List<SummaryRow> of(List<Sample> samples, String baseline) {
        return of(samples, baseline, null);
    }

    /**
     * Summarizes samples into one row per variant and setting, in the order variants and settings
     * were measured.
     *
     * @param samples  every sample of the run
     * @param baseline the baseline's variant name
     * @param limit    the limit variant's name, the second divisor; null for none
     * @return the rows
     */
    public static List<SummaryRow> of(List<Sample> samples, String baseline, String limit) {
        Map<String, Map<Setting, List<Sample>>> byVariant = samples.stream().collect(Collectors.groupingBy(
                Sample::variant, LinkedHashMap::new,
                Collectors.groupingBy(Sample::setting, LinkedHashMap::new, Collectors.toList())));
        Map<Setting, List<Sample>> baselines = byVariant.getOrDefault(baseline, Map.of());
        Map<Setting, List<Sample>> limits = limit == null ? Map.of() : byVariant.getOrDefault(limit, Map.of());
        List<SummaryRow> rows = new ArrayList<>();
        byVariant.forEach((variant, bySetting) -> bySetting.forEach((setting, list) ->
                rows.add(row(variant, setting, list, baselines.getOrDefault(setting, List.of()),
                        variant.equals(limit) ? List.of() : limits.getOrDefault(setting, List.of())))));
        rows.sort(Comparator.comparing((SummaryRow row) -> row.setting().isolation())
                .thenComparingInt(row -> row.setting().concurrency())
                .thenComparingInt(row -> row.setting().outputBytes())
                .thenComparingInt(row -> BenchOptions.VARIANTS.indexOf(row.variant())));
        return rows;
    }

    private static SummaryRow row(String variant, Setting setting, List<Sample> samples, List<Sample> baselines,
            List<Sample> limits) {
        OptionalDouble ratio = pairedRatio(samples, baselines);
        OptionalDouble ratioToLimit = pairedRatio(samples, limits);
        Set<String> notes = new LinkedHashSet<>();
        samples.stream().map(Sample::note).filter(Objects::nonNull).forEach(notes::add);
        return new SummaryRow(variant, setting, samples.size(),
                median(samples, s -> s.window().opsPerSecond()),
                samples.stream().mapToDouble(s -> s.window().opsPerSecond()).min().orElse(0),
                samples.stream().mapToDouble(s -> s.window().opsPerSecond()).max().orElse(0),
                median(samples, s -> s.window().p50Ms()),
                median(samples, s -> s.window().p99Ms()),
                ratio,
                samples.stream().mapToLong(s -> s.window().errors()).sum(),
                String.join("; ", notes),
                ratioToLimit,
                usage(samples));
    }

    /** Median over rounds of ops/s ÷ the divisor's ops/s in the same round; empty if never paired. */
    private static OptionalDouble pairedRatio(List<Sample> samples, List<Sample> divisors) {
        List<Double> ratios = new ArrayList<>();
        for (Sample sample : samples) {
            divisors.stream().filter(d -> d.round() == sample.round() && d.window().ops() > 0).findFirst()
                    .ifPresent(d -> ratios.add(sample.window().opsPerSecond() / d.window().opsPerSecond()));
        }
        return ratios.isEmpty() ? OptionalDouble.empty() : OptionalDouble.of(median(ratios, Double::doubleValue));
    }

    /** Each figure's median over the metered rounds (own-backend CPU over the rounds that found some). */
    private static Optional<ResourceMeter.Usage> usage(List<Sample> samples) {
        List<ResourceMeter.Usage> usages = samples.stream().map(Sample::usage).filter(Objects::nonNull).toList();
        if (usages.isEmpty()) {
            return Optional.empty();
        }
        List<ResourceMeter.Usage> own = usages.stream().filter(u -> !Double.isNaN(u.ownBackendCpuMicros())).toList();
        return Optional.of(new ResourceMeter.Usage(
                median(usages, ResourceMeter.Usage::jvmCpuMicros),
                median(usages, ResourceMeter.Usage::allocatedBytes),
                median(usages, ResourceMeter.Usage::postgresCpuMicros),
                own.isEmpty() ? Double.NaN : median(own, ResourceMeter.Usage::ownBackendCpuMicros),
                (int) median(usages, ResourceMeter.Usage::ownBackends),
                median(usages, ResourceMeter.Usage::jvmCores),
                median(usages, ResourceMeter.Usage::postgresCores),
                median(usages, ResourceMeter.Usage::gcPercent),
                median(usages, ResourceMeter.Usage::jitPercent),
                median(usages, ResourceMeter.Usage::jvmContextSwitches)));
    }

    static <T> double median(List<T> items, ToDoubleFunction<T> value) {
        double[] sorted = items.stream().mapToDouble(value).sorted().toArray();
        if (sorted.length == 0) {
            return 0;
        }
        int middle = sorted.length / 2;
        return sorted.length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }
}
