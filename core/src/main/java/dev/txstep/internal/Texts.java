package dev.txstep.internal;

/**
 * Finds text that a database text column cannot store as it is: a NUL character (PostgreSQL
 * refuses it, and it would end the simple-query message that carries a step's output row) or an
 * unpaired surrogate (not valid UTF-16: drivers encode it as '?', so the stored text would differ
 * from the given one, and two different workflow ids could share a record).
 */
public final class Texts {

    private Texts() {
    }

    /**
     * What makes a text unstorable, for a message.
     *
     * @param text the text to check, not null
     * @return e.g. "a NUL character at index 3", or null if the text can be stored as it is
     */
    public static String unstorable(String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '\0') {
                return "a NUL character at index " + i;
            }
            if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
                i++; // a well-formed pair
            } else if (Character.isSurrogate(c)) {
                return "an unpaired surrogate at index " + i;
            }
        }
        return null;
    }
}
