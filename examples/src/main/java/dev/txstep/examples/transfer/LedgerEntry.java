package dev.txstep.examples.transfer;

import org.springframework.data.relational.core.mapping.Table;

/**
 * One side of a transfer in the ledger (table {@code ledger}, primary key
 * {@code (transfer_id, account_id)}): inserted, never updated, so it has no Spring Data id.
 *
 * @param transferId the transfer's id
 * @param accountId  the account debited or credited
 * @param amount     negative for the debit, positive for the credit
 */
@Table // named by TransferTables (ledger)
public record LedgerEntry(String transferId, String accountId, long amount) {
}
