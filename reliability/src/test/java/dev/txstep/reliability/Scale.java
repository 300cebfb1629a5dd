package dev.txstep.reliability;

import java.util.Locale;

/**
 * How big a scenario runs: {@code short} in the default test run (seconds each, so CI stays
 * fast), {@code long} under {@code -Preliability} (the figures RELIABILITY.md reports). Set by the
 * {@code txstep.reliability} system property, which the module's surefire configuration passes.
 */
enum Scale {
    SHORT, LONG;

    /** The scale of this test run. */
    static Scale current() {
        String value = System.getProperty("txstep.reliability", "short").trim().toLowerCase(Locale.ROOT);
        return switch (value) {
            case "short", "" -> SHORT;
            case "long" -> LONG;
            default -> throw new IllegalStateException(
                    "txstep.reliability must be 'short' or 'long', was '" + value + "'");
        };
    }

    /** The short figure in the default run, the long one under -Preliability. */
    static int pick(int shortValue, int longValue) {
        return current() == LONG ? longValue : shortValue;
    }
}
