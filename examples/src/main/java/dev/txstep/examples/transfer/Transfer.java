package dev.txstep.examples.transfer;

import java.time.Instant;

/**
 * A completed transfer: the output of the {@code transfer} step, recorded by txstep with the
 * transfer's effects and returned as the response body. A retried request replays this record, so
 * its id, balances and time are those of the one transfer that happened.
 *
 * @param id          the transfer's id, made when the step ran
 * @param from        the account debited
 * @param to          the account credited
 * @param amount      the amount moved, in cents
 * @param fromBalance the debited account's balance right after the transfer
 * @param toBalance   the credited account's balance right after the transfer
 * @param createdAt   when the step ran (to the millisecond)
 */
public record Transfer(String id, String from, String to, long amount, long fromBalance, long toBalance,
        Instant createdAt) {
}
