package dev.txstep.bench;

import java.io.IOException;
import java.lang.management.CompilationMXBean;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * What a timed window cost the machine, divided by the operations it completed: the harness JVM's
 * CPU time, the bytes its threads allocated, and PostgreSQL's CPU time — of every {@code postgres}
 * process, and of the benchmark's own backends alone.
 *
 * <p>Why per operation: throughput on a shared 2-core machine moves with whatever else runs, while
 * the CPU and memory one operation costs mostly does not; and they show the client's cost of a
 * variant directly instead of leaving it to be guessed from ops/s.
 *
 * <p>Sources: {@code OperatingSystemMXBean.getProcessCpuTime()} for the JVM, and the garbage
 * collectors' and the JIT compiler's MXBeans for the share of the window spent collecting and
 * compiling (every thread, the
 * harness's own bookkeeping included); {@code ThreadMXBean.getThreadAllocatedBytes} summed over the
 * threads alive at the window's end, each minus its count at the start (a thread that ended inside
 * the window is lost: an undercount, small since the workers' threads live through it);
 * {@code utime + stime} from {@code /proc/<pid>/stat} of every process named {@code postgres}
 * (background processes — WAL writer, checkpointer, autovacuum — and every other client's backends
 * included), and separately of the backends whose {@code application_name} is
 * {@value #APPLICATION_NAME} (the pools of the in-process variants set it), read before the window
 * opens. Kernel ticks are 10 ms at the usual 100 Hz, so a window needs a few seconds of CPU for a
 * figure good to a few per cent. The JVM's voluntary context switches (a thread blocking: parking,
 * waiting for I/O) are {@code voluntary_ctxt_switches} of {@code /proc/self/task/<tid>/status},
 * summed over the threads alive at the window's end, each minus its count at the start: how often
 * the client's threads go to sleep and must be woken, which is what a blocking caller pays per
 * round trip and an event loop mostly does not.
 */
final class ResourceMeter {

    /** The {@code application_name} of the benchmark's application connections. */
    static final String APPLICATION_NAME = "txstep-bench";

    private static final Path PROC = Path.of("/proc");
    private static final long TICKS_PER_SECOND = ticksPerSecond();
    private static volatile Postgres postgres;

    private final long startedNanos = System.nanoTime();
    private final long jvmCpuNanos;
    private final long gcMillis;
    private final long jitMillis;
    private final Map<Long, Long> threadBytes;
    private final Map<Long, Long> postgresTicks;
    private final Map<Long, Long> contextSwitches;
    private final Set<Long> own;

    private ResourceMeter(Set<Long> own) {
        this.own = own;
        this.postgresTicks = postgresTicks();
        this.threadBytes = threadBytes();
        this.contextSwitches = contextSwitches();
        this.jvmCpuNanos = jvmCpuNanos();
        this.gcMillis = gcMillis();
        this.jitMillis = jitMillis();
    }

    /**
     * Names the server whose backends are "own": asked once per window which backends carry
     * {@link #APPLICATION_NAME}. Without it the own-backend figure is absent.
     *
     * @param server the benchmark's PostgreSQL
     */
    static void configure(Postgres server) {
        postgres = server;
    }

    /**
     * Starts metering: call just before the window opens (it queries the server first).
     *
     * @return the running meter
     */
    static ResourceMeter start() {
        return new ResourceMeter(ownBackends());
    }

    /**
     * Ends metering: call just after the window closed.
     *
     * @param ops the operations the window completed
     * @return the window's usage per operation
     */
    Usage stop(long ops) {
        long cpu = jvmCpuNanos() - jvmCpuNanos;
        long gc = gcMillis() - gcMillis;
        long jit = jitMillis() - jitMillis;
        long bytes = delta(threadBytes(), threadBytes);
        long switches = delta(contextSwitches(), contextSwitches);
        Map<Long, Long> postgresNow = postgresTicks();
        long pgTicks = delta(postgresNow, postgresTicks);
        // The own backends from the same two scans, so both figures cover the same instants.
        long ownTicks = 0;
        int metered = 0;
        for (long pid : own) {
            Long before = postgresTicks.get(pid);
            Long after = postgresNow.get(pid);
            if (before != null && after != null) {
                ownTicks += after - before;
                metered++;
            }
        }
        double seconds = (System.nanoTime() - startedNanos) / 1e9;
        double pgMicros = pgTicks * 1e6 / TICKS_PER_SECOND;
        double ownMicros = ownTicks * 1e6 / TICKS_PER_SECOND;
        double n = Math.max(1, ops);
        return new Usage(cpu / 1e3 / n, bytes / n, pgMicros / n, metered == 0 ? Double.NaN : ownMicros / n,
                metered, cpu / 1e9 / seconds, pgMicros / 1e6 / seconds, gc / 10.0 / seconds,
                jit / 10.0 / seconds, switches / n);
    }

    /**
     * A window's cost per operation.
     *
     * @param jvmCpuMicros       harness JVM CPU time per operation, µs
     * @param allocatedBytes     bytes allocated by the harness JVM's threads per operation
     * @param postgresCpuMicros  CPU time of every {@code postgres} process per operation, µs
     * @param ownBackendCpuMicros CPU time of the benchmark's own backends per operation, µs; NaN
     *                           when none was found (a variant whose connections are not the pools')
     * @param ownBackends        how many own backends were metered
     * @param jvmCores           harness JVM CPU time ÷ window: cores busy on average
     * @param postgresCores      {@code postgres} processes' CPU time ÷ window
     * @param gcPercent          the collectors' accumulated collection time ÷ window, in per cent
     *                           (G1's young pauses and its concurrent cycles' pauses)
     * @param jitPercent         the JIT compilers' accumulated compilation time ÷ window, in per
     *                           cent (summed over compiler threads, so it may pass 100): non-zero
     *                           means the window still measured code being compiled
     * @param jvmContextSwitches the harness JVM's threads' voluntary context switches per operation
     */
    record Usage(double jvmCpuMicros, double allocatedBytes, double postgresCpuMicros, double ownBackendCpuMicros,
            int ownBackends, double jvmCores, double postgresCores, double gcPercent, double jitPercent,
            double jvmContextSwitches) {
    }

    private static long jitMillis() {
        CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
        return jit != null && jit.isCompilationTimeMonitoringSupported() ? jit.getTotalCompilationTime() : 0;
    }

    private static long gcMillis() {
        long sum = 0;
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            sum += Math.max(0, gc.getCollectionTime());
        }
        return sum;
    }

    private static long jvmCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }

    private static Map<Long, Long> threadBytes() {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long[] ids = threads.getAllThreadIds();
        long[] bytes = threads.getThreadAllocatedBytes(ids);
        Map<Long, Long> map = new HashMap<>(ids.length * 2);
        for (int i = 0; i < ids.length; i++) {
            if (bytes[i] >= 0) {
                map.put(ids[i], bytes[i]);
            }
        }
        return map;
    }

    /** Thread id → voluntary context switches so far, for every thread of this JVM; empty off Linux. */
    private static Map<Long, Long> contextSwitches() {
        Map<Long, Long> map = new HashMap<>();
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(PROC.resolve("self").resolve("task"), "[0-9]*")) {
            for (Path task : tasks) {
                try {
                    for (String line : Files.readAllLines(task.resolve("status"), StandardCharsets.US_ASCII)) {
                        if (line.startsWith("voluntary_ctxt_switches:")) {
                            map.put(Long.parseLong(task.getFileName().toString()),
                                    Long.parseLong(line.substring(line.indexOf(':') + 1).trim()));
                        }
                    }
                } catch (IOException | NumberFormatException e) {
                    // The thread ended while we read it: it is not counted.
                }
            }
        } catch (IOException e) {
            return map;
        }
        return map;
    }

    /** Sum over the keys of {@code end} of its value minus {@code start}'s (0 for a new key). */
    private static long delta(Map<Long, Long> end, Map<Long, Long> start) {
        long sum = 0;
        for (Map.Entry<Long, Long> e : end.entrySet()) {
            sum += e.getValue() - start.getOrDefault(e.getKey(), 0L);
        }
        return sum;
    }

    private static Map<Long, Long> postgresTicks() {
        Map<Long, Long> map = new HashMap<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(PROC, "[0-9]*")) {
            for (Path entry : entries) {
                long pid = Long.parseLong(entry.getFileName().toString());
                String stat = stat(pid);
                if (stat != null && stat.contains("(postgres)")) {
                    long ticks = ticksOf(stat);
                    if (ticks >= 0) {
                        map.put(pid, ticks);
                    }
                }
            }
        } catch (IOException | NumberFormatException e) {
            return map;
        }
        return map;
    }

    private static Set<Long> ownBackends() {
        Set<Long> pids = new HashSet<>();
        Postgres server = postgres;
        if (server == null) {
            return pids;
        }
        try (Connection c = server.connect(server.database());
                PreparedStatement s = c.prepareStatement("SELECT pid FROM pg_stat_activity WHERE application_name = ?")) {
            s.setString(1, APPLICATION_NAME);
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    pids.add(rs.getLong(1));
                }
            }
        } catch (Exception e) {
            pids.clear();
        }
        return pids;
    }

    private static String stat(long pid) {
        try {
            return Files.readString(PROC.resolve(Long.toString(pid)).resolve("stat"), StandardCharsets.US_ASCII);
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /**
     * Fields 14 and 15 of {@code /proc/<pid>/stat} (utime, stime), counted after the command name's
     * closing parenthesis, since the name itself may hold spaces.
     */
    private static long ticksOf(String stat) {
        int close = stat.lastIndexOf(')');
        if (close < 0) {
            return -1;
        }
        String[] fields = stat.substring(close + 2).trim().split(" ");
        // fields[0] is field 3 (state), so field 14 is fields[11] and field 15 fields[12].
        if (fields.length < 13) {
            return -1;
        }
        try {
            return Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static long ticksPerSecond() {
        try {
            Process process = new ProcessBuilder("getconf", "CLK_TCK").redirectErrorStream(true).start();
            String text = new String(process.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).trim();
            process.waitFor(5, TimeUnit.SECONDS);
            return Long.parseLong(text);
        } catch (IOException | NumberFormatException e) {
            return 100;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 100;
        }
    }
}
