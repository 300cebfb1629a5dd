package dev.txstep.bench;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Everything a load run produced, as written to results.json: parameters, environment, the
 * variants' descriptions, every sample, the failures and the summary.
 */
final class Results {

    /**
     * A measurement that threw instead of producing a sample.
     *
     * @param variant the variant
     * @param setting the setting
     * @param round   the round
     * @param error   the exception's type and message
     */
    record Failure(String variant, Setting setting, int round, String error) {
    }

    private final String runId;
    private final Instant started = Instant.now();
    private final Map<String, String> options;
    private final Map<String, String> environment;
    private final Map<String, String> variants = new LinkedHashMap<>();
    private final List<Sample> samples = new ArrayList<>();
    private final List<Failure> failures = new ArrayList<>();
    private List<SummaryRow> summary = List.of();

    Results(String runId, Map<String, String> options, Map<String, String> environment) {
        this.runId = runId;
        this.options = options;
        this.environment = environment;
    }

    void describe(String variant, String description) {
        variants.put(variant, description);
    }

    void add(Sample sample) {
        samples.add(sample);
    }

    void fail(String variant, Setting setting, int round, Exception error) {
        failures.add(new Failure(variant, setting, round, error.toString()));
    }

    void summarize(String baseline) {
        summarize(baseline, null);
    }

    /**
     * @param baseline the variant every ratio divides by
     * @param limit    the variant the second ratio divides by, or null
     */
    void summarize(String baseline, String limit) {
        summary = SummaryRow.of(samples, baseline, limit);
    }

    String runId() {
        return runId;
    }

    Instant started() {
        return started;
    }

    Map<String, String> options() {
        return options;
    }

    Map<String, String> environment() {
        return environment;
    }

    Map<String, String> variants() {
        return variants;
    }

    List<Sample> samples() {
        return samples;
    }

    List<Failure> failures() {
        return failures;
    }

    List<SummaryRow> summary() {
        return summary;
    }
}
