package dev.txstep.reliability;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * A scenario's figures: what was done and what was counted afterwards. Printed to standard output
 * and appended, one line per scenario run, to {@code target/reliability/results.tsv}, from which
 * RELIABILITY.md's table is written. Figures are recorded only after the scenario's assertions
 * have been evaluated, so a line in the file is a passed check.
 */
final class Report {

    private final String scenario;
    private final Map<String, Object> figures = new LinkedHashMap<>();

    private Report(String scenario) {
        this.scenario = scenario;
    }

    /** Starts the figures of one scenario (e.g. {@code "R1 in-JVM executors"}). */
    static Report of(String scenario) {
        return new Report(scenario);
    }

    /** Adds one figure; insertion order is kept. */
    Report put(String name, Object value) {
        figures.put(name, value);
        return this;
    }

    /** Prints the figures and appends them to the results file. */
    void publish() {
        String text = figures.entrySet().stream()
                .map(e -> e.getKey() + "=" + e.getValue())
                .collect(Collectors.joining(", "));
        String line = String.join("\t", Instant.now().toString(), Scale.current().name().toLowerCase(),
                scenario, text);
        System.out.println("[reliability] " + scenario + " (" + Scale.current().name().toLowerCase() + "): " + text);
        Path file = Path.of("target", "reliability", "results.tsv");
        try {
            Files.createDirectories(file.getParent());
            Files.writeString(file, line + System.lineSeparator(),
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
