package dev.txstep.reliability;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Starts a {@code main} class of this module's tests in a separate JVM with the same classpath:
 * the scenarios that need a process to die (SIGKILL) or several processes at once. The child's
 * standard output and error go to a file, so a full pipe never stalls it and its last words can be
 * read after it was killed.
 */
final class ChildJvm {

    private ChildJvm() {
    }

    /**
     * Starts {@code mainClass} with {@code args}.
     *
     * @param output the file the child's standard output and error are appended to
     * @return the running process
     */
    static Process start(Class<?> mainClass, Path output, String... args) {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = new ArrayList<>();
        command.add(java);
        command.add("-Xmx256m");
        command.add("-XX:TieredStopAtLevel=1"); // short-lived children: start fast, peak speed does not matter
        command.add("-cp");
        command.add(classpath());
        command.add(mainClass.getName());
        command.addAll(List.of(args));
        try {
            Files.createDirectories(output.toAbsolutePath().getParent());
            return new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(output.toFile()))
                    .start();
        } catch (IOException e) {
            throw new UncheckedIOException("could not start " + mainClass.getName(), e);
        }
    }

    /**
     * A child's {@code main}: runs the body and exits 0, or prints the failure and exits 1.
     * {@code System.exit}, because Flyway's and the drivers' threads must not keep the child alive.
     */
    static void runAndExit(Callable<?> body) {
        int status = 1;
        try {
            body.call();
            status = 0;
        } catch (Throwable t) {
            t.printStackTrace();
        }
        System.exit(status);
    }

    /**
     * In a child: waits until the parent creates {@code file} (a start barrier, a go signal). Polls
     * every millisecond with a short park, not a spin: several children spinning would starve the
     * ones still starting.
     *
     * @throws IllegalStateException if the file does not appear in time (the parent died, say)
     */
    static void awaitFile(Path file, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!Files.exists(file)) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the test never created " + file + " (waited " + timeout + ")");
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
        }
    }

    /**
     * In a child: writes its result under another name and moves it into place, so that the
     * parent never reads half a file, even when the child is killed while writing.
     */
    static void writeAtomically(Path file, List<String> lines) throws IOException {
        Path partial = file.resolveSibling(file.getFileName() + ".partial");
        Files.write(partial, lines);
        Files.move(partial, file, StandardCopyOption.ATOMIC_MOVE);
    }

    private static String classpath() {
        // Surefire names the test classpath here; java.class.path is the same with
        // useManifestOnlyJar=false, and is what an IDE run has.
        String surefire = System.getProperty("surefire.test.class.path");
        String cp = surefire != null && !surefire.isBlank() ? surefire : System.getProperty("java.class.path");
        if (cp == null || cp.isBlank()) {
            throw new IllegalStateException("no classpath to start a child JVM with");
        }
        return cp;
    }
}
