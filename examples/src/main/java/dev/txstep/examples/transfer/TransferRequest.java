package dev.txstep.examples.transfer;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.util.Iterator;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The body of {@code POST /transfers}: move {@code amount} cents from one account to another.
 *
 * @param from   the account debited
 * @param to     the account credited
 * @param amount how much, in cents; positive
 */
public record TransferRequest(String from, String to, long amount) {

    /** The longest account id: the {@code accounts.id} column's length. */
    static final int MAX_ACCOUNT_ID_LENGTH = 64;

    private static final Set<String> FIELDS = Set.of("from", "to", "amount");

    /**
     * Strict JSON: a repeated field is an error (rather than the last one winning), and nothing
     * after the object is allowed. The body is read as a tree and each field's JSON type checked
     * here, so no number is ever coerced (a string {@code "100"}, {@code 1.5} or {@code 1e2} for a
     * whole number of cents is refused instead of being read as 100 or 1).
     */
    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    /** Jackson's message for a repeated field names it in single quotes. */
    private static final Pattern DUPLICATE_FIELD = Pattern.compile("Duplicate field '([^']*)'");

    /**
     * Reads and validates a request body. Called before any step runs, so a malformed request
     * changes nothing in the accounts.
     *
     * @param json the body's bytes, UTF-8
     * @return the request
     * @throws InvalidRequestException naming the field (or the body) and what is wrong with it
     */
    static TransferRequest parse(byte[] json) {
        if (json.length == 0) {
            throw new InvalidRequestException(null, "a JSON body {\"from\": ..., \"to\": ..., \"amount\": ...} is required");
        }
        JsonNode body;
        try {
            body = JSON.readTree(json);
        } catch (JsonProcessingException e) {
            Matcher duplicate = DUPLICATE_FIELD.matcher(e.getOriginalMessage());
            if (duplicate.find()) {
                throw new InvalidRequestException(duplicate.group(1), "duplicate field '" + duplicate.group(1) + "'");
            }
            throw new InvalidRequestException(null, "the body is not valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new InvalidRequestException(null, "the body could not be read: " + e.getMessage());
        }
        if (body == null || !body.isObject()) {
            throw new InvalidRequestException(null, "the body must be a JSON object {\"from\", \"to\", \"amount\"}");
        }
        for (Iterator<String> names = body.fieldNames(); names.hasNext();) {
            String name = names.next();
            if (!FIELDS.contains(name)) {
                throw new InvalidRequestException(name, "unknown field '" + printable(name)
                        + "'; a transfer has 'from', 'to' and 'amount'");
            }
        }
        String from = accountId(body, "from");
        String to = accountId(body, "to");
        JsonNode amount = body.get("amount");
        if (amount == null) {
            throw new InvalidRequestException("amount", "'amount' is required");
        }
        // isIntegralNumber() is false for 1.5, 1e2 and 100.0 (JSON floats) and for "100" (a string).
        if (!amount.isIntegralNumber() || !amount.canConvertToLong()) {
            throw new InvalidRequestException("amount", "'amount' must be a whole number of cents written as a JSON"
                    + " integer (no quotes, fraction or exponent) that fits in 64 bits");
        }
        if (amount.longValue() <= 0) {
            throw new InvalidRequestException("amount", "'amount' is in cents and must be positive");
        }
        if (from.equals(to)) {
            throw new InvalidRequestException("to", "'from' and 'to' must be different accounts");
        }
        return new TransferRequest(from, to, amount.longValue());
    }

    /**
     * An account id: a JSON string of 1 to 64 characters with no control character (NUL
     * included, which PostgreSQL cannot store) and no unpaired surrogate (which drivers would
     * store as {@code ?}).
     */
    private static String accountId(JsonNode body, String field) {
        JsonNode node = body.get(field);
        if (node == null || node.isNull()) {
            throw new InvalidRequestException(field, "'" + field + "' names an account and is required");
        }
        if (!node.isTextual()) {
            throw new InvalidRequestException(field, "'" + field + "' must be a JSON string");
        }
        String id = node.textValue();
        if (id.isEmpty() || id.length() > MAX_ACCOUNT_ID_LENGTH) {
            throw new InvalidRequestException(field, "'" + field + "' must be 1 to " + MAX_ACCOUNT_ID_LENGTH
                    + " characters long");
        }
        for (int i = 0; i < id.length(); i++) {
            char c = id.charAt(i);
            boolean unpaired = Character.isHighSurrogate(c)
                    ? i + 1 >= id.length() || !Character.isLowSurrogate(id.charAt(++i))
                    : Character.isLowSurrogate(c);
            if (Character.isISOControl(c) || unpaired) {
                throw new InvalidRequestException(field, "'" + field + "' must not contain control characters or"
                        + " unpaired surrogates (found one at position " + i + ")");
            }
        }
        return id;
    }

    /** A field name fit for a message: control characters shown as {@code ?}. */
    private static String printable(String name) {
        String shown = name.length() > 64 ? name.substring(0, 64) + "…" : name;
        return shown.codePoints().map(c -> Character.isISOControl(c) ? '?' : c)
                .collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append).toString();
    }

    /**
     * A request body that is not a valid transfer: answered {@code 400}, nothing runs.
     */
    static final class InvalidRequestException extends RuntimeException {

        private static final long serialVersionUID = 1L;

        private final String field;

        InvalidRequestException(String field, String message) {
            super(message, null, false, false);
            this.field = field;
        }

        /** @return the offending field's name, or empty when the body as a whole is wrong */
        Optional<String> field() {
            return Optional.ofNullable(field);
        }
    }
}
