package dev.txstep.examples.transfer;

import org.springframework.data.annotation.Id;
import org.springframework.data.relational.core.mapping.Table;

/**
 * An account and its balance: a Spring Data entity (table {@code accounts}) and the body of
 * {@code GET /accounts/{id}}. Its id is assigned by the bank, never by the database, so
 * {@code save} of an account updates it.
 *
 * @param id      the account's id
 * @param balance its balance, in cents; never negative
 */
@Table // named by TransferTables (accounts)
public record Account(@Id String id, long balance) {
}
