package dev.txstep.bench;

import java.time.LocalTime;
import java.time.format.DateTimeFormatter;

/**
 * Progress lines on stderr, so stdout stays free for whatever calls the harness.
 */
final class Progress {

    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss");

    private Progress() {
    }

    /**
     * Prints one line, prefixed with the time of day.
     *
     * @param format a {@link String#format} pattern
     * @param args   its arguments
     */
    static void log(String format, Object... args) {
        System.err.println("[bench " + LocalTime.now().format(TIME) + "] " + String.format(format, args));
    }
}
