package dev.txstep.reliability;

import dev.txstep.testing.TestDatabases;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.UserPrincipal;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The PostgreSQL that R4 restarts. Other tests and processes share the server on 127.0.0.1:5432,
 * so R4 never restarts that one. Where the machine has PostgreSQL's server binaries ({@code initdb},
 * found through {@code pg_config --bindir} or under {@code /usr/lib/postgresql/<version>/bin}), it
 * creates a server of its own: {@code initdb} into a directory under {@code target/}, trust
 * authentication, a free port on 127.0.0.1, started and restarted with {@code pg_ctl}, stopped
 * and deleted on {@link #close()} (and by a shutdown hook if the JVM exits first). PostgreSQL
 * refuses to run as root, so as root every command runs as the {@code postgres} OS user through
 * {@code runuser}.
 *
 * <p>Without those binaries (tests pointed at a remote server with {@code TXSTEP_TEST_R2DBC_URL}),
 * or when the system property {@code txstep.reliability.restart=terminate} asks for it, the
 * scenario runs on the shared test server and a "restart" terminates, with
 * {@code pg_terminate_backend}, every backend of this scenario's connections (recognized by a
 * unique {@code application_name}): the client sees every connection die at once, as in a
 * restart, but the server never refuses new connections. {@link #mode()} says which.
 */
final class DatabaseRestartPostgres implements AutoCloseable {

    private static final long COMMAND_TIMEOUT_SECONDS = 120;

    private String r2dbcUrl;
    private final Path base;
    private final Path bin;
    private final boolean asPostgresUser;
    private final Thread shutdownHook;
    private final String applicationName;
    private int restarts;

    private DatabaseRestartPostgres(String r2dbcUrl, Path base, Path bin, boolean asPostgresUser, String applicationName) {
        this.r2dbcUrl = r2dbcUrl;
        this.base = base;
        this.bin = bin;
        this.asPostgresUser = asPostgresUser;
        this.applicationName = applicationName;
        this.shutdownHook = base == null ? null : new Thread(this::stopAndDelete, "r4-private-postgres-cleanup");
        if (shutdownHook != null) {
            Runtime.getRuntime().addShutdownHook(shutdownHook);
        }
    }

    /** A private server where the binaries are here, else the shared test server. */
    static DatabaseRestartPostgres start() {
        Path bin = "terminate".equals(System.getProperty("txstep.reliability.restart")) ? null : serverBinaries();
        if (bin == null) {
            String name = "txstep_r4_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
            String shared = TestDatabases.postgresR2dbcUrl();
            return new DatabaseRestartPostgres(shared + (shared.contains("?") ? "&" : "?") + "applicationName=" + name,
                    null, null, false, name);
        }
        boolean root = "root".equals(System.getProperty("user.name"));
        DatabaseRestartPostgres server = new DatabaseRestartPostgres(null, createBase("r4-postgres", root), bin, root, null);
        try {
            server.pgCommand("initdb", "-D", server.data(), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync");
            server.startOnAFreePort();
            return server;
        } catch (RuntimeException e) {
            server.close();
            throw e;
        }
    }

    /**
     * Starts the server on a port that was free a moment ago; another process may take it in
     * between, so up to three ports are tried.
     */
    private void startOnAFreePort() {
        for (int attempt = 1; ; attempt++) {
            int port = freePort();
            try {
                // fsync off: only an operating-system crash could lose data without it, and the scenario
                // restarts the server, never the machine (a fast shutdown writes a checkpoint).
                pgCommand("pg_ctl", "-D", data(), "-l", base.resolve("server.log").toString(), "-w", "-t", "60",
                        "-o", "-p " + port + " -k " + base + " -c listen_addresses=127.0.0.1 -c fsync=off", "start");
                r2dbcUrl = "r2dbc:postgresql://postgres@127.0.0.1:" + port + "/postgres";
                return;
            } catch (IllegalStateException e) {
                if (attempt == 3) {
                    throw e;
                }
            }
        }
    }

    /** The R2DBC URL of the database to use. */
    String r2dbcUrl() {
        return r2dbcUrl;
    }

    /** How {@link #restart()} works here, for the scenario's report. */
    String mode() {
        return base != null ? "private server, pg_ctl restart -m fast" : "shared server, pg_terminate_backend";
    }

    /** Restarts completed so far. */
    synchronized int restarts() {
        return restarts;
    }

    /**
     * Restarts the server, waiting until it accepts connections again: a fast shutdown (every
     * session terminated with 57P01, open transactions rolled back), then a start. On the shared
     * server: terminates this scenario's backends.
     */
    synchronized void restart() {
        if (base != null) {
            pgCommand("pg_ctl", "-D", data(), "-m", "fast", "-w", "-t", "60", "restart");
        } else {
            terminateOwnBackends();
        }
        restarts++;
    }

    /** Whether the server is down for a while during a restart (false: only connections are cut). */
    boolean refusesConnectionsWhileRestarting() {
        return base != null;
    }

    @Override
    public void close() {
        if (shutdownHook != null) {
            try {
                Runtime.getRuntime().removeShutdownHook(shutdownHook);
            } catch (IllegalStateException e) {
                // the JVM is already shutting down: the hook does the work
            }
            stopAndDelete();
        }
    }

    // ---- private server ----

    private String data() {
        return base.resolve("data").toString();
    }

    private synchronized void stopAndDelete() {
        if (!Files.exists(base)) {
            return;
        }
        if (Files.exists(base.resolve("data").resolve("postmaster.pid"))) {
            try {
                pgCommand("pg_ctl", "-D", data(), "-m", "immediate", "-w", "-t", "60", "stop");
            } catch (RuntimeException e) {
                System.err.println("could not stop the private PostgreSQL in " + base + ": " + e.getMessage());
            }
        }
        deleteTree(base);
    }

    /** Runs one of PostgreSQL's programs, as the postgres user when we are root; fails on a non-zero exit. */
    private void pgCommand(String program, String... args) {
        runProgram(bin, asPostgresUser, base.resolve("commands.log"), program, args);
    }

    /**
     * Runs one of PostgreSQL's programs from {@code bin}, as the postgres user if asked (when we are
     * root: PostgreSQL refuses to run as root), its output appended to {@code log}; fails on a
     * non-zero exit.
     */
    static void runProgram(Path bin, boolean asPostgresUser, Path log, String program, String... args) {
        List<String> command = new ArrayList<>();
        if (asPostgresUser) {
            command.addAll(List.of("runuser", "-u", "postgres", "--"));
        }
        command.add(bin.resolve(program).toString());
        command.addAll(List.of(args));
        run(command, log);
    }

    /** Deletes a directory and everything in it, as far as it can; says so on stderr where it cannot. */
    static void deleteTree(Path path) {
        if (path == null || !Files.exists(path)) {
            return;
        }
        try (Stream<Path> files = Files.walk(path)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            System.err.println("could not delete " + path + ": " + e);
        }
    }

    /** Runs a command to its end; its output goes to {@code log}, or nowhere if null. */
    static void run(List<String> command, Path log) {
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(log == null ? ProcessBuilder.Redirect.DISCARD : ProcessBuilder.Redirect.appendTo(log.toFile()))
                    .start();
            if (!process.waitFor(COMMAND_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IllegalStateException("timed out: " + String.join(" ", command) + " (see " + log + ")");
            }
            if (process.exitValue() != 0) {
                throw new IllegalStateException("exit " + process.exitValue() + ": " + String.join(" ", command)
                        + (log == null ? "" : "\n" + tail(log)));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("could not run " + command, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted: " + command, e);
        }
    }

    private static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    /** The directory of PostgreSQL's server programs, or null if this machine has none. */
    static Path serverBinaries() {
        try {
            Process process = new ProcessBuilder("pg_config", "--bindir").redirectErrorStream(true).start();
            String out = new String(process.getInputStream().readAllBytes()).trim();
            if (process.waitFor(10, TimeUnit.SECONDS) && process.exitValue() == 0
                    && Files.isExecutable(Path.of(out, "initdb"))) {
                return Path.of(out);
            }
        } catch (IOException e) {
            // no pg_config: look where Debian puts the server
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
        try (Stream<Path> versions = Files.list(Path.of("/usr/lib/postgresql"))) {
            return versions.map(v -> v.resolve("bin"))
                    .filter(b -> Files.isExecutable(b.resolve("initdb")))
                    .max(Comparator.comparing(Path::toString))
                    .orElse(null);
        } catch (IOException e) {
            return null;
        }
    }

    /**
     * A fresh directory for a private server's data and sockets, under {@code target/<name>/}, owned
     * by the postgres user when we are root; in the system's temporary directory when the postgres
     * user cannot reach {@code target/}.
     */
    static Path createBase(String name, boolean root) {
        try {
            Path base = Files.createDirectories(Path.of("target", name).toAbsolutePath())
                    .resolve(UUID.randomUUID().toString().substring(0, 8));
            Files.createDirectory(base);
            if (!root) {
                return base;
            }
            UserPrincipal postgres = base.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("postgres");
            Files.setOwner(base, postgres);
            try {
                run(List.of("runuser", "-u", "postgres", "--", "test", "-w", base.toString()), null);
                return base;
            } catch (IllegalStateException notReachable) {
                // a parent directory the postgres user cannot enter: use the temporary directory
                Files.delete(base);
                Path tmp = Files.createTempDirectory("txstep-" + name);
                Files.setOwner(tmp, postgres);
                return tmp;
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a directory for a private PostgreSQL (" + name + ")", e);
        }
    }

    static int freePort() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ---- shared server ----

    private void terminateOwnBackends() {
        try (Connection c = TestDatabases.jdbc(TestDatabases.postgresR2dbcUrl());
                PreparedStatement ps = c.prepareStatement("SELECT COUNT(pg_terminate_backend(pid, 5000))"
                        + " FROM pg_stat_activity WHERE application_name = ? AND pid <> pg_backend_pid()")) {
            ps.setString(1, applicationName);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
            }
        } catch (SQLException e) {
            throw new IllegalStateException("could not terminate the scenario's backends", e);
        }
    }
}
