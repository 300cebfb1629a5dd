package dev.txstep.examples.transfer;

import dev.txstep.IsolationLevel;
import dev.txstep.spring.TxStep;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.UUID;
import org.springframework.data.r2dbc.core.R2dbcEntityTemplate;
import reactor.core.publisher.Mono;

/**
 * The one transaction step that moves money, written the Spring way: a {@link TxStep} method over a
 * Spring Data repository and {@link R2dbcEntityTemplate}. Inside the step the repository and the
 * template run on the step's connection, in its transaction, so the balances, the ledger rows and
 * txstep's record of the {@link Transfer} commit together, once per Idempotency-Key.
 *
 * <p><b>One step, not two.</b> The debit and the credit run in a single step: one transaction that
 * locks both accounts, checks the balance, debits, credits, writes both ledger entries and records
 * the resulting transfer, all or nothing. Two steps (debit, then credit) would commit the debit
 * alone first: until the credit's step ran, the money would be missing from both accounts. Separate
 * steps are for effects that cannot share a transaction (accounts in two databases, a call to
 * another service).
 *
 * <p><b>Locks in a fixed order, at READ COMMITTED.</b> The step first locks both accounts
 * ({@link AccountRepository#findByIdInOrderById}: {@code … ORDER BY id FOR UPDATE}), so two opposite
 * transfers queue on the first account instead of each holding one row and waiting for the other.
 * With both rows locked before they are read, READ COMMITTED is enough: the balance the step checks
 * cannot change until it commits. SERIALIZABLE would add nothing here but serialization failures,
 * which with two hot accounts is most transfers.
 *
 * <p><b>Threads.</b> Nothing here blocks: the method returns a {@code Mono}, so {@code @TxStep}
 * runs it as a reactive step.
 */
public class TransferService {

    /** The step's name: recorded with its output and checked on replay, so it is spelled out. */
    static final String STEP = "transfer";

    private final AccountRepository accounts;
    private final R2dbcEntityTemplate template;

    TransferService(AccountRepository accounts, R2dbcEntityTemplate template) {
        this.accounts = accounts;
        this.template = template;
    }

    /**
     * The transfer step. Inside a workflow (a request with an {@code Idempotency-Key}) its output
     * is recorded, and a replay returns it without touching the accounts.
     *
     * @param request a validated request (two different accounts, a positive amount)
     * @return on subscribe, runs or replays the step and emits the transfer; errors with
     *         {@link TransferRejectedException} (first run) or {@code RecordedStepException}
     *         wrapping one (replay) when the bank refuses it
     */
    @TxStep(name = STEP, isolation = IsolationLevel.READ_COMMITTED)
    public Mono<Transfer> transfer(TransferRequest request) {
        return move(request);
    }

    /**
     * Reads an account: a read-only step, which records nothing.
     *
     * @param id the account's id
     * @return on subscribe, emits the account, or completes empty if there is none
     */
    @TxStep(name = "account", readOnly = true)
    public Mono<Account> account(String id) {
        return accounts.findById(id);
    }

    /** The step's body (also run by the workflow test kit, which has no Spring proxy). */
    Mono<Transfer> move(TransferRequest request) {
        String id = UUID.randomUUID().toString();
        Instant at = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        return accounts.findByIdInOrderById(List.of(request.from(), request.to()))
                .collectMap(Account::id, Account::balance)
                .flatMap(balances -> {
                    Long fromBalance = balances.get(request.from());
                    Long toBalance = balances.get(request.to());
                    if (fromBalance == null || toBalance == null) {
                        return Mono.error(new TransferRejectedException(
                                "no account '" + (fromBalance == null ? request.from() : request.to()) + "'"));
                    }
                    if (fromBalance < request.amount()) {
                        return Mono.error(new TransferRejectedException(
                                "insufficient funds in account '" + request.from() + "'"));
                    }
                    long fromAfter = fromBalance - request.amount();
                    long toAfter = toBalance + request.amount();
                    return accounts.save(new Account(request.from(), fromAfter))
                            .then(accounts.save(new Account(request.to(), toAfter)))
                            .then(template.insert(new LedgerEntry(id, request.from(), -request.amount())))
                            .then(template.insert(new LedgerEntry(id, request.to(), request.amount())))
                            .thenReturn(new Transfer(id, request.from(), request.to(), request.amount(),
                                    fromAfter, toAfter, at));
                });
    }
}
