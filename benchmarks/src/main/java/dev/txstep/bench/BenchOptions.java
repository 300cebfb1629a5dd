package dev.txstep.bench;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The harness's parameters. Each is read from {@code --name value} on the command line, else from
 * the system property {@code bench.name}, else its default; {@code --quick} switches the defaults
 * to a smoke run (explicit values still win). {@link #usage()} lists them.
 */
final class BenchOptions {

    /** Every variant, in the order results list them; the first is the baseline. */
    static final List<String> VARIANTS = List.of("r2dbc-baseline", "limit", "limit-bound", "limit-read",
            "txstep-first", "txstep-replay", "txstep-blocking", "dbos-java", "dbos-ts");

    /**
     * The variants a run without {@code --variants} measures: all but {@code limit-bound} and
     * {@code limit-read}, which answer one question each (literal or bound output insert, by output
     * size; what the recorded-ids read costs any client) and run when named.
     */
    static final List<String> DEFAULT_VARIANTS = VARIANTS.stream()
            .filter(name -> !name.equals("limit-bound") && !name.equals("limit-read"))
            .toList();

    /** The physical-limit variant, the second divisor of every table and chart. */
    static final String LIMIT = "limit";

    private static final Map<String, String> DEFAULTS = new LinkedHashMap<>();
    private static final Map<String, String> QUICK = new LinkedHashMap<>();

    static {
        QUICK.put("seconds", "2");
        QUICK.put("warmup", "1");
        QUICK.put("rounds", "2");
        QUICK.put("concurrency", "16");
        QUICK.put("replay-workflows", "200");
        QUICK.put("memory-steps", "20000");
        QUICK.put("memory-checkpoint", "5000");
        QUICK.put("warmup-max-passes", "2");

        DEFAULTS.put("mode", "load");
        DEFAULTS.put("seconds", "5");
        DEFAULTS.put("warmup", "2");
        DEFAULTS.put("rounds", "5");
        DEFAULTS.put("warmup-round", "true");
        DEFAULTS.put("warmup-jit-percent", "10");
        DEFAULTS.put("warmup-max-passes", "4");
        DEFAULTS.put("concurrency", "1,16,64");
        DEFAULTS.put("isolation", "READ_COMMITTED,SERIALIZABLE");
        DEFAULTS.put("variants", String.join(",", DEFAULT_VARIANTS));
        DEFAULTS.put("steps-per-workflow", "10");
        DEFAULTS.put("output-bytes", Integer.toString(Setting.DEFAULT_OUTPUT_BYTES));
        DEFAULTS.put("caller-threads", "platform");
        DEFAULTS.put("workflow-ids", "sequential");
        DEFAULTS.put("replay-workflows", "1000");
        DEFAULTS.put("memory-steps", "1000000");
        DEFAULTS.put("memory-checkpoint", "100000");
        DEFAULTS.put("pg-host", "127.0.0.1");
        DEFAULTS.put("pg-port", "5432");
        DEFAULTS.put("pg-user", "postgres");
        DEFAULTS.put("pg-password", "");
        DEFAULTS.put("pg-database", "postgres");
        DEFAULTS.put("node", "node");
        DEFAULTS.put("node-dir", "benchmarks/node");
        DEFAULTS.put("out", "benchmarks/results");
        DEFAULTS.put("keep", "false");
    }

    private final Map<String, String> values;

    private BenchOptions(Map<String, String> values) {
        this.values = values;
    }

    /**
     * Parses the command line over system properties and defaults.
     *
     * @param args {@code --name value} pairs, and the flags {@code --quick}, {@code --keep}, {@code --help}
     * @return the options, or null if {@code --help} was given
     * @throws IllegalArgumentException for an unknown name, a missing value or an invalid value
     */
    static BenchOptions parse(String[] args) {
        Map<String, String> given = new LinkedHashMap<>();
        boolean quick = Boolean.getBoolean("bench.quick");
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (!arg.startsWith("--")) {
                throw new IllegalArgumentException("expected --name, got '" + arg + "' (see --help)");
            }
            String name = arg.substring(2);
            if (name.equals("help")) {
                return null;
            } else if (name.equals("quick")) {
                quick = true;
            } else if (name.equals("keep")) {
                given.put("keep", "true");
            } else if (!DEFAULTS.containsKey(name)) {
                throw new IllegalArgumentException("unknown option --" + name + " (see --help)");
            } else if (i + 1 >= args.length) {
                throw new IllegalArgumentException("--" + name + " needs a value");
            } else {
                given.put(name, args[++i]);
            }
        }
        Map<String, String> values = new LinkedHashMap<>(DEFAULTS);
        if (quick) {
            values.putAll(QUICK);
        }
        DEFAULTS.keySet().forEach(name -> {
            String property = System.getProperty("bench." + name);
            if (property != null) {
                values.put(name, property);
            }
        });
        values.putAll(given);
        BenchOptions options = new BenchOptions(values);
        options.validate();
        return options;
    }

    /** @return the help text */
    static String usage() {
        StringBuilder text = new StringBuilder("""
                usage: scripts/bench.sh [--quick] [--keep] [--name value ...]
                Each option may also be given as the system property bench.<name>.
                --quick  a smoke run: %s
                --keep   leave the bench_* schemas and databases in place afterwards
                options and their defaults:
                """.formatted(QUICK));
        DEFAULTS.forEach((name, value) -> text.append(String.format("  --%-20s %s%n", name, value)));
        text.append("variants: ").append(String.join(", ", VARIANTS)).append(" (the baseline always runs;"
                + " limit-bound and limit-read only when named)\n");
        text.append("output-bytes: serialized step output sizes, e.g. 16,1024,16384,262144, each a setting of its own;\n"
                + "  0 = the transfer's row count (txstep writes [\"java.lang.Long\",1], 20 bytes); applies to limit,\n"
                + "  limit-bound, limit-read, txstep-first and txstep-blocking (the others run their usual output)\n");
        text.append("caller-threads: platform (a fixed pool) or virtual (one virtual thread per caller, JDK 21+):"
                + " txstep-blocking's callers\n");
        text.append("workflow-ids: sequential (a counter) or random (16 hex digits, spread over the output table's index)\n");
        text.append("modes: load (the variant grid), memory (one workflow streaming memory-steps steps)\n");
        return text.toString();
    }

    private void validate() {
        if (!Set.of("load", "memory").contains(mode())) {
            throw new IllegalArgumentException("--mode must be load or memory, was '" + mode() + "'");
        }
        timing();
        rounds();
        concurrencies();
        isolations();
        variants();
        stepsPerWorkflow();
        outputBytes();
        virtualCallerThreads();
        randomWorkflowIds();
        warmupJitPercent();
        warmupMaxPasses();
        replayWorkflows();
        memorySteps();
        memoryCheckpoint();
        postgres();
    }

    String mode() {
        return values.get("mode");
    }

    /** @return warm-up and window of each measurement */
    Timing timing() {
        return new Timing(Duration.ofMillis((long) (number("warmup", 0) * 1000)),
                Duration.ofMillis((long) (number("seconds", 0.1) * 1000)));
    }

    int rounds() {
        return integer("rounds", 1);
    }

    List<Integer> concurrencies() {
        List<Integer> list = new ArrayList<>();
        for (String item : list("concurrency")) {
            list.add(parseInt("concurrency", item, 1));
        }
        return list;
    }

    List<Isolation> isolations() {
        List<Isolation> list = new ArrayList<>();
        for (String item : list("isolation")) {
            try {
                list.add(Isolation.valueOf(item.toUpperCase().replace(' ', '_')));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--isolation takes " + Arrays.toString(Isolation.values())
                        + ", was '" + item + "'");
            }
        }
        return list;
    }

    /** @return the variants to run, in {@link #VARIANTS} order, always with the baseline */
    List<String> variants() {
        List<String> wanted = list("variants");
        for (String name : wanted) {
            if (!VARIANTS.contains(name)) {
                throw new IllegalArgumentException("unknown variant '" + name + "'; known: " + VARIANTS);
            }
        }
        return VARIANTS.stream().filter(name -> name.equals(VARIANTS.get(0)) || wanted.contains(name)).toList();
    }

    int stepsPerWorkflow() {
        return integer("steps-per-workflow", 1);
    }

    /**
     * @return whether txstep-blocking's callers are virtual threads ({@code --caller-threads
     *         virtual}, JDK 21 or later) rather than a fixed pool of platform threads
     * @throws IllegalArgumentException for another value, or virtual threads on a JDK without them
     */
    boolean virtualCallerThreads() {
        String value = values.get("caller-threads");
        if (!Set.of("platform", "virtual").contains(value)) {
            throw new IllegalArgumentException("--caller-threads must be platform or virtual, was '" + value + "'");
        }
        if (value.equals("virtual") && Runtime.version().feature() < 21) {
            throw new IllegalArgumentException("--caller-threads virtual needs JDK 21 or later; this is "
                    + Runtime.version() + " (put a later JDK's java first on the PATH)");
        }
        return value.equals("virtual");
    }

    /**
     * @return whether workflow ids are random ({@code --workflow-ids random}) rather than a counter
     *         ({@code sequential}); see {@link WorkflowIds}
     * @throws IllegalArgumentException for another value
     */
    boolean randomWorkflowIds() {
        String value = values.get("workflow-ids");
        if (!Set.of("sequential", "random").contains(value)) {
            throw new IllegalArgumentException("--workflow-ids must be sequential or random, was '" + value + "'");
        }
        return value.equals("random");
    }

    /**
     * @return the serialized output sizes to run, each a setting of its own; {@link
     *         Setting#DEFAULT_OUTPUT_BYTES} is the transfer's own output
     */
    List<Integer> outputBytes() {
        List<Integer> list = new ArrayList<>();
        for (String item : list("output-bytes")) {
            int bytes = parseInt("output-bytes", item, 0);
            if (bytes > 64 << 20) {
                throw new IllegalArgumentException("--output-bytes must be at most 64 MiB, was " + bytes);
            }
            if (bytes == 1) {
                throw new IllegalArgumentException("--output-bytes: 0 (the row count) or at least 2 (a JSON string's"
                        + " quotes), was 1");
            }
            list.add(bytes);
        }
        return list;
    }

    int replayWorkflows() {
        return integer("replay-workflows", 1);
    }

    int memorySteps() {
        return integer("memory-steps", 1);
    }

    int memoryCheckpoint() {
        return integer("memory-checkpoint", 1);
    }

    Postgres postgres() {
        return new Postgres(values.get("pg-host"), integer("pg-port", 1), values.get("pg-user"),
                values.get("pg-password"), values.get("pg-database"));
    }

    String node() {
        return values.get("node");
    }

    Path nodeDirectory() {
        return Path.of(values.get("node-dir"));
    }

    Path outputDirectory() {
        return Path.of(values.get("out"));
    }

    /** @return whether round 0 (JIT warm-up, not recorded) runs first */
    boolean warmupRound() {
        return Boolean.parseBoolean(values.get("warmup-round"));
    }

    /** @return the JIT compilation share of a window (per cent of one core) below which warm-up ends */
    double warmupJitPercent() {
        return number("warmup-jit-percent", 0);
    }

    /** @return the most warm-up passes to run while the JIT keeps compiling */
    int warmupMaxPasses() {
        return integer("warmup-max-passes", 1);
    }

    boolean keep() {
        return Boolean.parseBoolean(values.get("keep"));
    }

    /** @return every option's value, for the results file */
    Map<String, String> asMap() {
        Map<String, String> copy = new LinkedHashMap<>(values);
        copy.computeIfPresent("pg-password", (name, value) -> value.isEmpty() ? value : "***");
        return copy;
    }

    private List<String> list(String name) {
        List<String> items = Arrays.stream(values.get(name).split(",")).map(String::trim)
                .filter(item -> !item.isEmpty()).toList();
        if (items.isEmpty()) {
            throw new IllegalArgumentException("--" + name + " must not be empty");
        }
        return items;
    }

    private int integer(String name, int min) {
        return parseInt(name, values.get(name), min);
    }

    private static int parseInt(String name, String text, int min) {
        try {
            int value = Integer.parseInt(text.trim());
            if (value < min) {
                throw new IllegalArgumentException("--" + name + " must be at least " + min + ", was " + value);
            }
            return value;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--" + name + " must be an integer, was '" + text + "'");
        }
    }

    private double number(String name, double min) {
        try {
            double value = Double.parseDouble(values.get(name).trim());
            if (value < min) {
                throw new IllegalArgumentException("--" + name + " must be at least " + min + ", was " + value);
            }
            return value;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--" + name + " must be a number, was '" + values.get(name) + "'");
        }
    }
}
