package dev.txstep.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * What the results depend on besides the code: JVM, cores, memory, PostgreSQL and Node.js versions.
 */
final class Environment {

    private Environment() {
    }

    /**
     * @param database the benchmark's database, asked for its version
     * @param node     the node executable, or null if no Node variant runs
     * @return name → value, for the results
     */
    static Map<String, String> describe(BenchDatabase database, String node) {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("java", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
        env.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version") + " "
                + System.getProperty("os.arch"));
        env.put("cores", Integer.toString(Runtime.getRuntime().availableProcessors()));
        env.put("maxHeapMiB", Long.toString(Runtime.getRuntime().maxMemory() >> 20));
        env.put("jvmArgs", String.join(" ", java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments()));
        env.put("gc", String.join(", ", java.lang.management.ManagementFactory.getGarbageCollectorMXBeans().stream()
                .map(java.lang.management.GarbageCollectorMXBean::getName).toList()));
        try {
            env.put("postgresql", database.serverVersion());
        } catch (Exception e) {
            env.put("postgresql", "unknown: " + e.getMessage());
        }
        // Which CPUs the harness and the server may run on: on a 2-core machine, sharing both or
        // one each (scripts/bench-pinned.sh) changes what a client's CPU costs the server.
        env.put("jvmCpus", allowedCpus("self"));
        try {
            env.put("postgresCpus", allowedCpus(Integer.toString(database.backendPid())));
        } catch (Exception e) {
            env.put("postgresCpus", "unknown: " + e.getMessage());
        }
        if (node != null) {
            env.put("node", output(node, "--version"));
        }
        String commit = System.getProperty("bench.commit");
        if (commit != null) {
            env.put("commit", commit);
        }
        return env;
    }

    /** {@code Cpus_allowed_list} of {@code /proc/<pid>/status}, or "unknown" where it cannot be read (a remote server). */
    private static String allowedCpus(String pid) {
        try {
            return Files.readAllLines(Path.of("/proc", pid, "status")).stream()
                    .filter(line -> line.startsWith("Cpus_allowed_list:"))
                    .map(line -> line.substring("Cpus_allowed_list:".length()).trim())
                    .findFirst().orElse("unknown");
        } catch (IOException e) {
            return "unknown";
        }
    }

    private static String output(String... command) {
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            String text = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            process.waitFor(10, TimeUnit.SECONDS);
            return text;
        } catch (IOException e) {
            return "unknown: " + e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "unknown";
        }
    }
}
