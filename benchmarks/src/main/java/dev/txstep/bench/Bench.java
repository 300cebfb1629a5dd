package dev.txstep.bench;

import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;

/**
 * The harness's entry point ({@code scripts/bench.sh} runs it): parses the options and runs the
 * load or the memory mode, writing into {@code <out>/<timestamp>/}. Exit status 0 on success, 2 for
 * bad options, 1 when the run failed.
 */
public final class Bench {

    private Bench() {
    }

    /**
     * @param args see {@code --help}
     */
    public static void main(String[] args) {
        BenchOptions options;
        try {
            options = BenchOptions.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("bench: " + e.getMessage());
            System.exit(2);
            return;
        }
        if (options == null) {
            System.err.print(BenchOptions.usage());
            return;
        }
        String runId = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
        if (System.getProperty("bench.instance") != null) {
            // JVMs started in the same second must not share workflow ids.
            runId += "-i" + System.getProperty("bench.instance");
        }
        Path out = options.outputDirectory().resolve(runId);
        try {
            if (options.mode().equals("memory")) {
                new MemoryBenchmark(options, runId).run(out);
            } else {
                new LoadBenchmark(options, runId).run(out);
            }
        } catch (Exception e) {
            System.err.println("bench: run failed");
            e.printStackTrace();
            System.exit(1);
        }
        // DBOS and Reactor leave non-daemon threads behind; the run is over.
        System.exit(0);
    }
}
