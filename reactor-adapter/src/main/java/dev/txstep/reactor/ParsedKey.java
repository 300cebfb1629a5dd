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
     * <p>The IETF Idempotency-Key draft makes the key an RFC 8941 string: printable ASCII
     * (0x20–0x7E) in double quotes, with {@code \"} and {@code \\} as the only escapes. That form is
     * read as the draft says; a value without quotes is the key as sent (the form most APIs
     * accept), so {@code "abc"} and {@code abc} name the same key. Either way every character must
     * be printable ASCII: the header arrives as bytes, and a server that decodes them one per
     * character would store {@code é} as {@code Ã©} — a key the client never sent. A comma outside
     * quotes makes the value a list of keys, and anything after a quoted string (RFC 8941
     * parameters, a second item) is not one key either: both are refused rather than guessed at.
     *
     * @param headerName the header's name, for messages
     * @param values     the header's values, at least one
     * @return the key or the reason it is refused
     */
    static ParsedKey parse(String headerName, List<String> values) {
        if (values.size() != 1) {
            return new Invalid("send exactly one " + headerName + " header; this request has " + values.size());
        }
        String value = trimOws(values.get(0));
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c < 0x20 || c > 0x7e) {
                return new Invalid(headerName + " must be printable ASCII (0x20-0x7E), as the IETF draft's"
                        + " structured-field string allows; found " + String.format("U+%04X", (int) c)
                        + " at position " + i);
            }
        }
        String key;
        if (value.startsWith("\"")) {
            int end = closingQuote(value);
            if (end < 0) {
                return new Invalid(headerName + " starts with a double quote but is not a valid quoted string"
                        + " (closing quote at the end, only \\\" and \\\\ escaped)");
            }
            String rest = trimOws(value.substring(end + 1));
            if (rest.startsWith(",")) {
                return new Invalid(headerName + " holds a list of keys; send exactly one key");
            }
            if (rest.startsWith(";")) {
                return new Invalid(headerName + " has parameters after the quoted key; send the key alone");
            }
            if (!rest.isEmpty()) {
                return new Invalid(headerName + " has text after the closing quote; send one quoted string");
            }
            key = unescape(value.substring(1, end));
        } else if (value.indexOf(',') >= 0) {
            return new Invalid(headerName + " holds a list of keys (a comma outside a quoted string);"
                    + " send exactly one key, quoted if it contains a comma");
        } else {
            key = value;
        }
        if (key.isBlank()) {
            return new Invalid(headerName + " must not be blank");
        }
        return new Valid(key);
    }

    /** The index of the quote that closes the string opened at index 0, or -1 if it is malformed. */
    private static int closingQuote(String value) {
        for (int i = 1; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '\\') {
                if (i + 1 >= value.length()) {
                    return -1;
                }
                char escaped = value.charAt(++i);
                if (escaped != '"' && escaped != '\\') {
                    return -1;
                }
            } else if (c == '"') {
                return i;
            }
        }
        return -1;
    }

    /** The content of a well-formed quoted string, without its escapes. */
    private static String unescape(String content) {
        if (content.indexOf('\\') < 0) {
            return content;
        }
        StringBuilder key = new StringBuilder(content.length());
        for (int i = 0; i < content.length(); i++) {
            char c = content.charAt(i);
            key.append(c == '\\' ? content.charAt(++i) : c);
        }
        return key.toString();
    }

    /** Without leading and trailing spaces and tabs, the only whitespace HTTP allows around a value. */
    private static String trimOws(String value) {
        int start = 0;
        int end = value.length();
        while (start < end && (value.charAt(start) == ' ' || value.charAt(start) == '\t')) {
            start++;
        }
        while (end > start && (value.charAt(end - 1) == ' ' || value.charAt(end - 1) == '\t')) {
            end--;
        }
        return value.substring(start, end);
    }
}
