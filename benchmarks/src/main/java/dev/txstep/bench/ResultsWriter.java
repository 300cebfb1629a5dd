package dev.txstep.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Writes a load run's results.json (everything, every sample), results.md (the summary table) and
 * ratios.png (the chart) into one folder.
 */
final class ResultsWriter {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path folder;

    /** @param folder where the files go; created if absent */
    ResultsWriter(Path folder) {
        this.folder = folder;
    }

    void write(Results results) throws IOException {
        Files.createDirectories(folder);
        JSON.writerWithDefaultPrettyPrinter().writeValue(folder.resolve("results.json").toFile(), json(results));
        Files.writeString(folder.resolve("results.md"), markdown(results));
        new RatioChart(results.summary(), results.options().get("rounds")).write(folder.resolve("ratios.png"));
    }

    private static ObjectNode json(Results results) {
        ObjectNode root = JSON.createObjectNode();
        root.put("runId", results.runId());
        root.put("started", results.started().toString());
        root.set("options", JSON.valueToTree(results.options()));
        root.set("environment", JSON.valueToTree(results.environment()));
        root.set("variants", JSON.valueToTree(results.variants()));
        ArrayNode summary = root.putArray("summary");
        for (SummaryRow row : results.summary()) {
            ObjectNode node = summary.addObject();
            node.put("variant", row.variant());
            setting(node, row.setting());
            node.put("rounds", row.rounds());
            node.put("opsPerSec", round(row.opsPerSecond()));
            node.put("minOpsPerSec", round(row.minOps()));
            node.put("maxOpsPerSec", round(row.maxOps()));
            node.put("p50Ms", round(row.p50Ms()));
            node.put("p99Ms", round(row.p99Ms()));
            if (row.ratio().isPresent()) {
                node.put("ratioToBaseline", round(row.ratio().getAsDouble()));
            } else {
                node.putNull("ratioToBaseline");
            }
            if (row.ratioToLimit().isPresent()) {
                node.put("ratioToLimit", round(row.ratioToLimit().getAsDouble()));
            } else {
                node.putNull("ratioToLimit");
            }
            usage(node, row.usage().orElse(null));
            node.put("errors", row.errors());
            node.put("notes", row.notes());
        }
        ArrayNode samples = root.putArray("samples");
        for (Sample sample : results.samples()) {
            ObjectNode node = samples.addObject();
            node.put("variant", sample.variant());
            setting(node, sample.setting());
            node.put("round", sample.round());
            node.put("ops", sample.window().ops());
            node.put("seconds", round(sample.window().seconds()));
            node.put("opsPerSec", round(sample.window().opsPerSecond()));
            node.put("p50Ms", round(sample.window().p50Ms()));
            node.put("p99Ms", round(sample.window().p99Ms()));
            node.put("errors", sample.window().errors());
            node.put("firstError", sample.window().firstError());
            node.put("note", sample.note());
            usage(node, sample.usage());
        }
        ArrayNode failures = root.putArray("failures");
        for (Results.Failure failure : results.failures()) {
            ObjectNode node = failures.addObject();
            node.put("variant", failure.variant());
            setting(node, failure.setting());
            node.put("round", failure.round());
            node.put("error", failure.error());
        }
        return root;
    }

    private static void setting(ObjectNode node, Setting setting) {
        node.put("concurrency", setting.concurrency());
        node.put("isolation", setting.isolation().name());
        node.put("outputBytes", setting.outputBytes());
    }

    /** Per-operation CPU (µs) and allocation (bytes); nulls where not metered. */
    private static void usage(ObjectNode node, ResourceMeter.Usage usage) {
        if (usage == null) {
            for (String name : new String[] {"jvmCpuMicrosPerOp", "allocatedBytesPerOp", "postgresCpuMicrosPerOp",
                    "ownBackendCpuMicrosPerOp", "ownBackends", "jvmCores", "postgresCores", "gcPercent", "jitPercent",
                    "jvmContextSwitchesPerOp"}) {
                node.putNull(name);
            }
            return;
        }
        node.put("jvmCpuMicrosPerOp", round(usage.jvmCpuMicros()));
        node.put("allocatedBytesPerOp", Math.round(usage.allocatedBytes()));
        node.put("postgresCpuMicrosPerOp", round(usage.postgresCpuMicros()));
        if (Double.isNaN(usage.ownBackendCpuMicros())) {
            node.putNull("ownBackendCpuMicrosPerOp");
        } else {
            node.put("ownBackendCpuMicrosPerOp", round(usage.ownBackendCpuMicros()));
        }
        node.put("ownBackends", usage.ownBackends());
        node.put("jvmCores", round(usage.jvmCores()));
        node.put("postgresCores", round(usage.postgresCores()));
        node.put("gcPercent", round(usage.gcPercent()));
        node.put("jitPercent", round(usage.jitPercent()));
        node.put("jvmContextSwitchesPerOp", round(usage.jvmContextSwitches()));
    }

    private static String markdown(Results results) {
        StringBuilder md = new StringBuilder();
        md.append("# Benchmark results ").append(results.runId()).append("\n\n");
        md.append("Each operation is one transaction (UPDATE one of 10 000 accounts, INSERT one ledger row). ")
                .append("Throughput: median ops/s over ").append(results.options().get("rounds"))
                .append(" rounds of ").append(results.options().get("seconds")).append(" s (after ")
                .append(results.options().get("warmup")).append(" s warm-up); latencies: median over rounds of each ")
                .append("round's percentile; ratio: median over rounds of ops/s ÷ r2dbc-baseline's ops/s ")
                .append("in the same round and setting.\n\n");
        md.append("÷ limit: the same pairing against the `limit` variant (the baseline's transaction plus ")
                .append("txstep's output row sent as txstep sends it, no txstep code). CPU and allocation are per ")
                .append("operation over the timed window, medians over rounds: JVM = the harness process; ")
                .append("PG all = every `postgres` process on the machine (background processes and other clients ")
                .append("included); PG own = the benchmark's own backends; KB = bytes allocated by the harness's ")
                .append("threads ÷ 1024; GC % = collection time ÷ window. Noisy where other work shares the machine.\n\n");
        md.append("output B: the serialized step output's length; \"count\" = the transfer's row count ")
                .append("(`[\"java.lang.Long\",1]`, 20 bytes).\n\n");
        md.append("| variant | isolation | c | output B | ops/s | p50 ms | p99 ms | ÷ baseline | ÷ limit ")
                .append("| JVM µs/op | PG own µs/op | PG all µs/op | KB/op | GC % | errors | notes |\n");
        md.append("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|\n");
        for (SummaryRow row : results.summary()) {
            ResourceMeter.Usage u = row.usage().orElse(null);
            md.append(String.format(Locale.ROOT, "| %s | %s | %d | %s | %.0f | %.2f | %.2f | %s | %s | %s | %s | %s | %s | %s | %d | %s |%n",
                    row.variant(), row.setting().isolation(), row.setting().concurrency(),
                    row.setting().outputBytes() == Setting.DEFAULT_OUTPUT_BYTES ? "count"
                            : Integer.toString(row.setting().outputBytes()), row.opsPerSecond(), row.p50Ms(), row.p99Ms(),
                    ratio(row.ratio()), ratio(row.ratioToLimit()),
                    u == null ? "–" : String.format(Locale.ROOT, "%.0f", u.jvmCpuMicros()),
                    u == null || Double.isNaN(u.ownBackendCpuMicros()) ? "–"
                            : String.format(Locale.ROOT, "%.0f", u.ownBackendCpuMicros()),
                    u == null ? "–" : String.format(Locale.ROOT, "%.0f", u.postgresCpuMicros()),
                    u == null ? "–" : String.format(Locale.ROOT, "%.1f", u.allocatedBytes() / 1024),
                    u == null ? "–" : String.format(Locale.ROOT, "%.1f", u.gcPercent()),
                    row.errors(), row.notes().replace("|", "/")));
        }
        if (!results.failures().isEmpty()) {
            md.append("\n## Failed measurements\n\n");
            for (Results.Failure failure : results.failures()) {
                md.append("- round ").append(failure.round()).append(' ').append(failure.variant()).append(' ')
                        .append(failure.setting()).append(": `").append(failure.error()).append("`\n");
            }
        }
        md.append("\n## Variants\n\n");
        results.variants().forEach((name, description) ->
                md.append("- **").append(name).append("**: ").append(description).append('\n'));
        md.append("\n## Environment\n\n");
        results.environment().forEach((name, value) -> md.append("- ").append(name).append(": ").append(value).append('\n'));
        md.append("\n## Options\n\n");
        results.options().forEach((name, value) -> md.append("- ").append(name).append(": ").append(value).append('\n'));
        md.append("\n![ratios to the baseline](ratios.png)\n");
        return md.toString();
    }

    private static String ratio(java.util.OptionalDouble ratio) {
        return ratio.isPresent() ? String.format(Locale.ROOT, "%.2f×", ratio.getAsDouble()) : "–";
    }

    private static double round(double value) {
        return Math.round(value * 1000) / 1000.0;
    }
}
