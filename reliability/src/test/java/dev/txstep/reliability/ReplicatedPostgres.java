package dev.txstep.reliability;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Two private PostgreSQL servers in streaming replication, created by the test under
 * {@code target/}: a primary and one hot standby (a {@code pg_basebackup} of it), on two free ports
 * of 127.0.0.1. The shared test server is never touched.
 *
 * <p>A failover is done the way a failover manager would, by hand: {@link #killPrimary()} sends
 * SIGKILL to the primary's postmaster and every process under it (nothing is flushed, nothing is
 * shut down: the machine is gone, as far as clients can tell), {@link #promoteStandby()} runs
 * {@code pg_ctl promote} on the standby, and {@link #reseedStandby()} deletes the dead node and
 * makes a new standby of the new primary on the dead node's port. The two ports never change, so
 * one multi-host URL ({@link #failoverUrl()}) names the cluster throughout; which port is the
 * primary alternates.
 *
 * <p>With {@link Replication#SYNCHRONOUS}, {@code synchronous_standby_names = '*'} and
 * {@code synchronous_commit = on}: a commit is acknowledged only once the standby has flushed it. A
 * new primary has no standby until the re-seeded one connects, so its commits wait for it (they do
 * not fail). With {@link Replication#ASYNCHRONOUS}, the primary acknowledges a commit once it is
 * flushed locally, and the standby may be behind when the primary dies.
 *
 * <p>PostgreSQL refuses to run as root, so as root every command runs as the {@code postgres}
 * user through {@code runuser}. Without the server binaries the constructor fails and says how to
 * install them: this scenario needs servers of its own, so it never falls back to the shared one.
 */
final class ReplicatedPostgres implements AutoCloseable {

    /** How commits reach the standby. */
    enum Replication {
        /** {@code synchronous_standby_names = '*'}: acknowledged commits are on the standby. */
        SYNCHRONOUS,
        /** No synchronous standby: the standby may miss the last acknowledged commits. */
        ASYNCHRONOUS
    }

    private final Replication replication;
    private final Path base;
    private final Path bin;
    private final boolean asPostgresUser;
    private final int[] ports = new int[2];
    private final Path[] data = new Path[2];
    /** Whether each node's server runs (a killed one left its postmaster.pid behind). */
    private final boolean[] running = new boolean[2];
    private final Thread shutdownHook = new Thread(this::stopAndDelete, "r8-postgres-cleanup");
    private int primary;
    private int generation;

    private ReplicatedPostgres(Replication replication, Path base, Path bin, boolean asPostgresUser) {
        this.replication = replication;
        this.base = base;
        this.bin = bin;
        this.asPostgresUser = asPostgresUser;
        Runtime.getRuntime().addShutdownHook(shutdownHook);
    }

    /**
     * Creates the primary (initdb), starts it, and makes and starts its standby.
     *
     * @throws IllegalStateException if PostgreSQL's server binaries are not installed
     */
    static ReplicatedPostgres start(Replication replication) {
        Path bin = DatabaseRestartPostgres.serverBinaries();
        if (bin == null || !Files.isExecutable(bin.resolve("pg_basebackup"))) {
            throw new IllegalStateException("the failover scenario needs PostgreSQL's server programs (initdb, pg_ctl,"
                    + " pg_basebackup) to create its own primary and standby; none found through pg_config --bindir"
                    + " or under /usr/lib/postgresql/<version>/bin. Install them: apt-get install postgresql-15");
        }
        boolean root = "root".equals(System.getProperty("user.name"));
        ReplicatedPostgres cluster = new ReplicatedPostgres(replication, DatabaseRestartPostgres.createBase("r8-postgres", root), bin, root);
        try {
            cluster.initPrimary();
            cluster.seedStandby(1);
            return cluster;
        } catch (RuntimeException e) {
            cluster.close();
            throw e;
        }
    }

    /** How this cluster replicates. */
    Replication replication() {
        return replication;
    }

    /**
     * The multi-host fail-over URL of r2dbc-postgresql naming both nodes, with
     * {@code targetServerType=primary}: each new connection goes to whichever node is the primary.
     */
    String failoverUrl() {
        return "r2dbc:postgresql:failover://postgres@127.0.0.1:" + ports[0] + ",127.0.0.1:" + ports[1]
                + "/postgres?targetServerType=primary";
    }

    /** A failover URL naming the standby first, then the primary. */
    String failoverUrlStandbyFirst() {
        return "r2dbc:postgresql:failover://postgres@127.0.0.1:" + ports[1 - primary] + ",127.0.0.1:" + ports[primary]
                + "/postgres?targetServerType=primary";
    }

    /** A plain URL of the current primary. */
    synchronized String primaryUrl() {
        return "r2dbc:postgresql://postgres@127.0.0.1:" + ports[primary] + "/postgres";
    }

    /** A plain URL of the current standby. */
    synchronized String standbyUrl() {
        return "r2dbc:postgresql://postgres@127.0.0.1:" + ports[1 - primary] + "/postgres";
    }

    /** A JDBC connection to the current primary. */
    Connection primaryJdbc() throws SQLException {
        return jdbc(primaryPort());
    }

    /** Runs one statement on the current primary. */
    void execOnPrimary(String sql) throws SQLException {
        try (Connection c = primaryJdbc(); Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    /** The single number a query returns on the current primary. */
    long countOnPrimary(String sql) throws SQLException {
        try (Connection c = primaryJdbc(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** The port an R2DBC URL of one of the cluster's nodes names. */
    static int port(String r2dbcUrl) {
        return Integer.parseInt(r2dbcUrl.substring(r2dbcUrl.lastIndexOf(':') + 1, r2dbcUrl.lastIndexOf('/')));
    }

    /** A JDBC connection to the current standby. */
    Connection standbyJdbc() throws SQLException {
        int port;
        synchronized (this) {
            port = ports[1 - primary];
        }
        return jdbc(port);
    }

    private synchronized int primaryPort() {
        return ports[primary];
    }

    private static Connection jdbc(int port) throws SQLException {
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/postgres", "postgres", null);
    }

    /**
     * SIGKILLs the primary's postmaster and every process under it, and waits until all are gone.
     * Commits in flight are neither acknowledged nor, unless already streamed, on the standby.
     */
    synchronized void killPrimary() {
        long pid = postmasterPid(data[primary]);
        ProcessHandle postmaster = ProcessHandle.of(pid)
                .orElseThrow(() -> new IllegalStateException("no postmaster with pid " + pid));
        List<ProcessHandle> all = new ArrayList<>();
        all.add(postmaster);
        postmaster.descendants().forEach(all::add);
        all.forEach(ProcessHandle::destroyForcibly);
        running[primary] = false;
        // Polled: onExit() of a process that is not our child polls with growing pauses (seconds),
        // and a killed process stays a zombie until someone reaps it; a zombie has run its last.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        for (ProcessHandle process : all) {
            while (!exited(process.pid())) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("process " + process.pid() + " survived SIGKILL for 30 s");
                }
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
            }
        }
    }

    /** Whether a process is gone or a zombie (Linux: its state in {@code /proc/<pid>/stat}). */
    private static boolean exited(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", String.valueOf(pid), "stat"));
            char state = stat.charAt(stat.lastIndexOf(')') + 2);
            return state == 'Z' || state == 'X';
        } catch (IOException | RuntimeException e) {
            return !ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
        }
    }

    /** Promotes the standby ({@code pg_ctl promote}, waiting until it accepts writes); it is the primary now. */
    synchronized void promoteStandby() {
        int standby = 1 - primary;
        pgCommand("pg_ctl", "-D", data[standby].toString(), "-w", "-t", "60", "promote");
        primary = standby;
    }

    /**
     * Replaces the dead node with a new standby of the current primary (a fresh base backup, on
     * the dead node's port) and waits until it streams (in synchronous mode: until it is the
     * synchronous standby, which releases the commits waiting for one).
     */
    void reseedStandby() {
        int dead;
        synchronized (this) {
            dead = 1 - primary;
            DatabaseRestartPostgres.deleteTree(data[dead]);
        }
        seedStandby(dead);
    }

    /** Waits until the standby has replayed everything the primary has written so far. */
    void awaitStandbyCaughtUp() {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        try (Connection p = primaryJdbc(); Statement s = p.createStatement()) {
            String lsn;
            try (ResultSet rs = s.executeQuery("SELECT pg_current_wal_lsn()")) {
                rs.next();
                lsn = rs.getString(1);
            }
            try (Connection st = standbyJdbc(); Statement ss = st.createStatement()) {
                while (true) {
                    try (ResultSet rs = ss.executeQuery("SELECT pg_last_wal_replay_lsn() >= '" + lsn + "'::pg_lsn")) {
                        rs.next();
                        if (rs.getBoolean(1)) {
                            return;
                        }
                    }
                    if (System.nanoTime() > deadline) {
                        throw new IllegalStateException("the standby did not replay up to " + lsn + " in 60 s");
                    }
                    Thread.sleep(20);
                }
            }
        } catch (SQLException e) {
            throw new IllegalStateException("could not compare the standby's position with the primary's", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException e) {
            // the JVM is shutting down: the hook does the work
        }
        stopAndDelete();
    }

    // ---- nodes ----

    private void initPrimary() {
        ports[0] = freePortBelowEphemeralRange();
        data[0] = nextDataDirectory();
        pgCommand("initdb", "-D", data[0].toString(), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync");
        // In postgresql.conf, so that every base backup (and so every later node) has it too. fsync
        // off: processes are killed here, never the machine, and the OS keeps what was written.
        // A replication slot is not needed: a standby is re-seeded from a fresh base backup.
        String settings = "\n# txstep R8\nlisten_addresses = '127.0.0.1'\nfsync = off\nsynchronous_commit = on\n"
                + "wal_keep_size = '256MB'\nwal_receiver_status_interval = '1s'\n"
                + (replication == Replication.SYNCHRONOUS ? "synchronous_standby_names = '*'\n" : "");
        try {
            Files.writeString(data[0].resolve("postgresql.conf"), settings, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        startNode(0);
        primary = 0;
    }

    /** A base backup of the primary into node {@code node}'s new directory, started as a standby. */
    private void seedStandby(int node) {
        if (ports[node] == 0) {
            ports[node] = freePortBelowEphemeralRange();
        }
        Path dir;
        int from;
        synchronized (this) {
            dir = nextDataDirectory();
            data[node] = dir;
            from = ports[primary];
        }
        pgCommand("pg_basebackup", "-h", "127.0.0.1", "-p", String.valueOf(from), "-U", "postgres", "-D", dir.toString(),
                "-R", "-X", "stream", "-c", "fast", "--no-sync");
        removeCopiedSocketLocks(dir);
        startNode(node);
        awaitStreaming();
    }

    /**
     * Deletes the socket lock files a base backup copied from its source's data directory (each
     * node's socket directory is its data directory; the backup skips the socket but not its lock
     * file). A copied lock names a postmaster of the source's, possibly long dead: if a new process
     * has taken that pid, a server started here on the same port refuses to start ("lock file
     * already exists") — which is what a re-seeded node on a killed node's port is.
     */
    private static void removeCopiedSocketLocks(Path dataDirectory) {
        try (DirectoryStream<Path> locks = Files.newDirectoryStream(dataDirectory, ".s.PGSQL.*.lock")) {
            for (Path lock : locks) {
                Files.delete(lock);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot remove copied socket locks in " + dataDirectory, e);
        }
    }

    /**
     * Starts a node, its socket in its own data directory: a SIGKILLed postmaster leaves its socket
     * lock file behind, naming a pid that may not be reaped yet, which would stop a new server on
     * the same port from starting in the same socket directory.
     */
    private void startNode(int node) {
        Path log = base.resolve("node" + node + ".log");
        try {
            pgCommand("pg_ctl", "-D", data[node].toString(), "-l", log.toString(), "-w",
                    "-t", "60", "-o", "-p " + ports[node] + " -k " + data[node], "start");
        } catch (IllegalStateException e) {
            String tail;
            try {
                List<String> lines = Files.readAllLines(log);
                tail = String.join("\n", lines.subList(Math.max(0, lines.size() - 10), lines.size()));
            } catch (IOException io) {
                tail = "(no server log: " + io + ")";
            }
            throw new IllegalStateException(e.getMessage() + "\nserver log:\n" + tail, e);
        }
        running[node] = true;
    }

    /**
     * A port that is free now, below the ephemeral range: a node is started again on its port
     * after a kill, and an ephemeral port could meanwhile be taken by any process's outgoing
     * connection.
     */
    private static int freePortBelowEphemeralRange() {
        java.util.concurrent.ThreadLocalRandom random = java.util.concurrent.ThreadLocalRandom.current();
        for (int attempt = 0; attempt < 200; attempt++) {
            int port = 20000 + random.nextInt(12000);
            try (java.net.ServerSocket socket = new java.net.ServerSocket(port, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
                return port;
            } catch (IOException taken) {
                // try another
            }
        }
        return DatabaseRestartPostgres.freePort();
    }

    /** Waits until the primary streams to a standby (in synchronous mode: a synchronous one). */
    private void awaitStreaming() {
        String condition = replication == Replication.SYNCHRONOUS ? "state = 'streaming' AND sync_state = 'sync'"
                : "state = 'streaming'";
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            try (Connection c = primaryJdbc(); Statement s = c.createStatement();
                    ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM pg_stat_replication WHERE " + condition)) {
                rs.next();
                if (rs.getLong(1) > 0) {
                    return;
                }
            } catch (SQLException e) {
                // the primary is starting: try again
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("no standby streaming from the primary after 60 s (see " + base + ")");
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
    }

    private Path nextDataDirectory() {
        return base.resolve("data" + (generation++));
    }

    private static long postmasterPid(Path dataDirectory) {
        try {
            return Long.parseLong(Files.readAllLines(dataDirectory.resolve("postmaster.pid")).get(0).trim());
        } catch (IOException e) {
            throw new UncheckedIOException("no postmaster.pid in " + dataDirectory, e);
        }
    }

    private synchronized void stopAndDelete() {
        if (!Files.exists(base)) {
            return;
        }
        for (int node = 0; node < 2; node++) {
            Path dir = data[node];
            if (dir != null && running[node] && Files.exists(dir.resolve("postmaster.pid"))) {
                try {
                    pgCommand("pg_ctl", "-D", dir.toString(), "-m", "immediate", "-w", "-t", "60", "stop");
                } catch (RuntimeException e) {
                    System.err.println("could not stop the PostgreSQL in " + dir + ": " + e.getMessage());
                }
            }
        }
        DatabaseRestartPostgres.deleteTree(base);
    }

    /** Runs one of PostgreSQL's programs, as the postgres user when we are root; fails on a non-zero exit. */
    private void pgCommand(String program, String... args) {
        DatabaseRestartPostgres.runProgram(bin, asPostgresUser, base.resolve("commands.log"), program, args);
    }
}
