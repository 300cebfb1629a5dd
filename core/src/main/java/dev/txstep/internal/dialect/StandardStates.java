package dev.txstep.internal.dialect;

import java.util.Set;

/** SQLSTATE values as the SQL standard defines them, for the dialects' defaults. */
final class StandardStates {

    /** SQLSTATE classes in which the database reports that it did not do what was asked. */
    static final Set<String> REFUSAL_CLASSES = Set.of("0A", "21", "22", "23", "25", "27", "28", "2B", "2D", "40", "42",
            "44", "53", "54");

    private StandardStates() {
    }
}
