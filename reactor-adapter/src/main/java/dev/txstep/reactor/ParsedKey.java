package dev.txstep.reactor;

import java.util.List;

/**
 * The outcome of reading an {@code Idempotency-Key} header: a key, or why the request is refused.
 * Package-private: the parsing rules are documented on {@link IdempotencyKeyWebFilter}.
 */
sealed interface ParsedKey {

    /**
     * A usable key.
     *
     * @param key the key, unquoted
     */
    record Valid(String key) implements ParsedKey {
    }

    /**
     * A header that cannot be a key; the request gets 400 and nothing runs.
     *
     * @param detail what is wrong, for the response body; never echoes the header's value (it may
     *               hold anything, control characters included)
     */
    record Invalid(String detail) implements ParsedKey {
    }

    /**
     * Reads the header's values.
     *
     * <p>A value in double quotes is an RFC 8941 string (the form the IETF Idempotency-Key draft
     * specifies): printable ASCII, with {@code \"} and {@code \\} as the only escapes; the key is
     * its unescaped content. Any other value is the key as sent (the unquoted form most APIs use),
     * so {@code "abc"} and {@code abc} name the same key. Either way the key must not be blank and
     * must not contain control characters (which would be invisible in logs and break tools that
     * list workflow ids).
     *
     * @param headerName the header's name, for messages
     * @param values     the header's values, at least one
     * @return the key or the reason it is refused
     */
    static ParsedKey parse(String headerName, List<String> values) {
        if (values.size() != 1) {
            return new Invalid("send exactly one " + headerName + " header; this request has " + values.size());
        }
        String value = values.get(0).strip();
        String key;
        if (value.startsWith("\"")) {
            key = unquote(value);
            if (key == null) {
                return new Invalid(headerName + " starts with a double quote but is not a valid quoted string"
                        + " (printable ASCII, closing quote at the end, only \\\" and \\\\ escaped)");
            }
        } else {
            key = value;
        }
        if (key.isBlank()) {
            return new Invalid(headerName + " must not be blank");
        }
        for (int i = 0; i < key.length(); i++) {
            if (Character.isISOControl(key.charAt(i))) {
                return new Invalid(headerName + " must not contain control characters (found one at position "
                        + i + ")");
            }
        }
        return new Valid(key);
    }

    /** The content of an RFC 8941 string, or null if {@code quoted} is not one. */
    private static String unquote(String quoted) {
        if (quoted.length() < 2 || !quoted.endsWith("\"")) {
            return null;
        }
        StringBuilder key = new StringBuilder(quoted.length() - 2);
        int last = quoted.length() - 1;
        for (int i = 1; i < last; i++) {
            char c = quoted.charAt(i);
            if (c == '\\') {
                if (i + 1 >= last) {
                    return null;
                }
                char escaped = quoted.charAt(++i);
                if (escaped != '"' && escaped != '\\') {
                    return null;
                }
                key.append(escaped);
            } else if (c == '"' || c < 0x20 || c > 0x7e) {
                return null;
            } else {
                key.append(c);
            }
        }
        return key.toString();
    }
}
