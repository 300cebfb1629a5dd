package dev.txstep.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Variant 6: DBOS TypeScript ({@code @dbos-inc/postgres-datasource} steps in DBOS workflows) in
 * Node.js. Each measurement spawns {@code node bench.mjs} (in {@code benchmarks/node}), which
 * launches DBOS, warms up, measures its own window and prints one JSON line; the process's start
 * and DBOS's launch are outside the window. stderr passes through to the harness's.
 */
final class DbosTsVariant implements Variant {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** Time for node to start, launch DBOS and shut down, on top of warm-up and window. */
    private static final long GRACE_SECONDS = 120;

    private final Postgres postgres;
    private final String node;
    private final Path directory;
    private final int stepsPerWorkflow;
    private final String runId;
    private int measurements;

    /**
     * @param postgres         the server
     * @param node             the node executable
     * @param directory        {@code benchmarks/node}, with its packages installed
     * @param stepsPerWorkflow steps per workflow
     * @param runId            the run's id, for workflow ids
     */
    DbosTsVariant(Postgres postgres, String node, Path directory, int stepsPerWorkflow, String runId) {
        this.postgres = postgres;
        this.node = node;
        this.directory = directory;
        this.stepsPerWorkflow = stepsPerWorkflow;
        this.runId = runId;
    }

    @Override
    public String name() {
        return "dbos-ts";
    }

    @Override
    public String description() {
        return "DBOS TS @dbos-inc/postgres-datasource transaction in DBOS workflows (Node.js, one process per"
                + " measurement), first execution, workflows of " + stepsPerWorkflow + " steps";
    }

    /**
     * Fails early, before any measurement, if node or the Node packages are missing.
     *
     * @throws IllegalStateException naming what to install
     */
    void checkInstalled() {
        if (!Files.isDirectory(directory.resolve("node_modules/@dbos-inc/postgres-datasource"))) {
            throw new IllegalStateException("the Node packages of " + directory + " are not installed: run"
                    + " 'npm ci' there (scripts/bench.sh does)");
        }
        try {
            Process version = new ProcessBuilder(node, "--version").redirectErrorStream(true).start();
            String text = new String(version.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            if (version.waitFor() != 0) {
                throw new IllegalStateException("'" + node + " --version' failed: " + text);
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot run '" + node + "' (install Node.js 20 or pass --node): " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @Override
    public Sample measure(Setting setting, Timing timing, int round) throws Exception {
        List<String> command = List.of(node, "bench.mjs",
                "--concurrency", Integer.toString(setting.concurrency()),
                "--isolation", setting.isolation().name(),
                "--seconds", seconds(timing.window().toMillis()),
                "--warmup", seconds(timing.warmup().toMillis()),
                "--steps", Integer.toString(stepsPerWorkflow),
                "--accounts", Integer.toString(Transfers.ACCOUNTS),
                "--app-url", postgres.nodeUrl(postgres.database()),
                "--system-url", postgres.nodeUrl(BenchDatabase.DBOS_TS_SYSTEM_DB),
                "--app-schema", Transfers.SCHEMA,
                "--output-schema", BenchDatabase.DBOS_TS_SCHEMA,
                "--pool-size", Integer.toString(setting.poolSize()),
                "--system-pool-size", Integer.toString(setting.dbosSystemPoolSize()),
                "--run-id", runId + "-" + (++measurements));
        Process process = new ProcessBuilder(command)
                .directory(directory.toFile())
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        List<String> stdout = new ArrayList<>();
        try (BufferedReader lines = new BufferedReader(
                new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = lines.readLine()) != null; ) {
                stdout.add(line);
            }
        }
        long limit = timing.warmup().toSeconds() + timing.window().toSeconds() + GRACE_SECONDS;
        if (!process.waitFor(limit, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IllegalStateException("node bench.mjs did not finish within " + limit + " s");
        }
        if (process.exitValue() != 0) {
            throw new IllegalStateException("node bench.mjs exited with " + process.exitValue() + "; stdout: " + stdout);
        }
        return new Sample(name(), setting, round, parse(stdout), "system pool " + setting.dbosSystemPoolSize());
    }

    /** The last stdout line that is a JSON object is the result. */
    private static Recorder.Window parse(List<String> stdout) throws IOException {
        for (int i = stdout.size() - 1; i >= 0; i--) {
            String line = stdout.get(i).trim();
            if (line.startsWith("{")) {
                JsonNode result = JSON.readTree(line);
                return new Recorder.Window(result.path("ops").asLong(), result.path("seconds").asDouble(),
                        result.path("p50Ms").asDouble(), result.path("p99Ms").asDouble(),
                        result.path("errors").asLong(), null);
            }
        }
        throw new IllegalStateException("node bench.mjs printed no JSON result; stdout: " + stdout);
    }

    private static String seconds(long millis) {
        return Double.toString(millis / 1000.0);
    }
}
