package dev.txstep.examples.transfer;

import java.util.Optional;

/**
 * The body of {@code POST /transfers}: move {@code amount} cents from one account to another.
 *
 * @param from   the account debited
 * @param to     the account credited
 * @param amount how much, in cents; positive
 */
public record TransferRequest(String from, String to, long amount) {

    /**
     * What is wrong with this request, if anything. Checked before any step runs, so a malformed
     * request records nothing and can be corrected and sent again with the same key.
     *
     * @return a message for the client, or empty if the request is well formed
     */
    public Optional<String> problem() {
        if (from == null || from.isBlank() || to == null || to.isBlank()) {
            return Optional.of("'from' and 'to' name the accounts and are required");
        }
        if (from.equals(to)) {
            return Optional.of("'from' and 'to' must be different accounts");
        }
        if (amount <= 0) {
            return Optional.of("'amount' is in cents and must be positive");
        }
        return Optional.empty();
    }
}
