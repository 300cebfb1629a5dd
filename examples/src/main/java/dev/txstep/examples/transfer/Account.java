package dev.txstep.examples.transfer;

/**
 * An account and its balance, the body of {@code GET /accounts/{id}}.
 *
 * @param id      the account's id
 * @param balance its balance, in cents; never negative
 */
public record Account(String id, long balance) {
}
