package dev.txstep.examples.transfer;

import dev.txstep.AsyncDatasource;
import dev.txstep.DatasourceOptions;
import dev.txstep.IsolationLevel;
import dev.txstep.TxSession;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Map;
import java.util.UUID;
import java.util.function.Function;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The accounts, the ledger and the one transaction step that moves money between them.
 *
 * <p><b>One step, not two.</b> The debit and the credit run in a single step: one transaction that
 * locks both accounts, checks the balance, debits, credits, writes both ledger entries and —
 * through txstep — records the resulting {@link Transfer}, all or nothing. Two steps (debit, then
 * credit) would commit the debit alone first: until the credit's step ran, the money would be
 * missing from both accounts, and if the process died in between it would stay missing until a
 * client retried with the same key. Separate steps are for effects that cannot share a transaction
 * (accounts in two databases, a call to another service). Here one database holds both accounts,
 * so one transaction keeps every balance consistent, and txstep makes it happen once per key.
 *
 * <p><b>Locks in a fixed order, at READ COMMITTED.</b> The step first locks both accounts with one
 * {@code SELECT … ORDER BY id FOR UPDATE}: every transfer takes the row locks in id order, so two
 * opposite transfers (alice → bob, bob → alice) queue on the first account instead of each holding
 * one row and waiting for the other — the deadlock that debit-then-credit produced under contention.
 * With both rows locked before they are read, READ COMMITTED is enough: the balance the step checks
 * cannot change until it commits, and a transfer that waited for the lock reads the balance its
 * predecessor committed. SERIALIZABLE would add nothing here but serialization failures (a
 * transfer that waited on a row changed since its snapshot must start again), which with two hot
 * accounts is most transfers.
 *
 * <p>SQL uses {@code $1}-style parameters, which both PostgreSQL's and H2's R2DBC drivers accept.
 *
 * <p><b>Threads.</b> Nothing here blocks. r2dbc-postgresql runs a step on the subscribing thread
 * (a WebFlux event loop) and continues on the driver's; on H2, whose engine runs on the calling
 * thread, txstep itself subscribes steps on a worker, so a lock wait never holds an event loop.
 */
final class TransferService {

    private final AsyncDatasource ds;
    private final String accounts;
    private final String ledger;
    private final Function<TransferRequest, Mono<Transfer>> transfer;

    /**
     * @param ds     the datasource
     * @param schema the schema of the tables (validated by txstep when {@code ds} was created)
     */
    TransferService(AsyncDatasource ds, String schema) {
        this.ds = ds;
        // The schema is a plain identifier: txstep refused any other when the datasource was created.
        this.accounts = "\"" + schema + "\".accounts";
        this.ledger = "\"" + schema + "\".ledger";
        // An explicit name: it is recorded with the output and checked on replay, so renaming the
        // Java method cannot attach old outputs to different code.
        this.transfer = ds.transaction(new DatasourceOptions("transfer", IsolationLevel.READ_COMMITTED), this::move);
    }

    /**
     * The transfer step. Inside a workflow (a request with an {@code Idempotency-Key}) its output
     * is recorded, and a replay returns it without touching the accounts.
     *
     * @return on subscribe, runs or replays the step and emits the transfer; errors with
     *         {@link TransferRejectedException} (first run) or {@code RecordedStepException}
     *         wrapping one (replay) when the bank refuses it
     */
    Mono<Transfer> transfer(TransferRequest request) {
        return transfer.apply(request);
    }

    /**
     * Reads an account. A read-only step: it records nothing, and on PostgreSQL it runs in a
     * read-only transaction.
     *
     * @return on subscribe, emits the account, or completes empty if there is none
     */
    Mono<Account> account(String id) {
        return ds.runTxStepAsync(DatasourceOptions.named("account").asReadOnly(), tx -> tx.query(
                "SELECT id, balance FROM " + accounts + " WHERE id = $1",
                (row, meta) -> new Account(row.get(0, String.class), row.get(1, Long.class)), id).next());
    }

    /**
     * Creates the tables if they do not exist and opens the given accounts if they do not exist
     * (an account that exists keeps its balance). A plain transaction: run outside any workflow,
     * nothing is recorded.
     *
     * @return on subscribe, does that and completes
     */
    Mono<Void> createTables(Map<String, Long> openingBalances) {
        return ds.runTxStepAsync(DatasourceOptions.named("createTables"), tx -> tx.execute(
                        "CREATE TABLE IF NOT EXISTS " + accounts + " (id VARCHAR(64) PRIMARY KEY,"
                                + " balance BIGINT NOT NULL CHECK (balance >= 0))")
                .then(tx.execute("CREATE TABLE IF NOT EXISTS " + ledger + " (transfer_id VARCHAR(36) NOT NULL,"
                        + " account_id VARCHAR(64) NOT NULL, amount BIGINT NOT NULL,"
                        + " PRIMARY KEY (transfer_id, account_id))"))
                .thenMany(Flux.fromIterable(openingBalances.entrySet()).concatMap(account -> tx.execute(
                        "INSERT INTO " + accounts + " (id, balance) SELECT $1, $2 WHERE NOT EXISTS"
                                + " (SELECT 1 FROM " + accounts + " WHERE id = $3)",
                        account.getKey(), account.getValue(), account.getKey())))
                .then()).then();
    }

    /** The step's function: called in the step's transaction, again on a retried attempt. */
    private Mono<Transfer> move(TxSession tx, TransferRequest request) {
        String id = UUID.randomUUID().toString();
        Instant at = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        // Both rows, locked in id order (see the class description); the balances read are final
        // until this transaction ends.
        return tx.query("SELECT id, balance FROM " + accounts + " WHERE id IN ($1, $2) ORDER BY id FOR UPDATE",
                        (row, meta) -> new Account(row.get(0, String.class), row.get(1, Long.class)),
                        request.from(), request.to())
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
                    // One statement for both rows (already locked): every round trip here is time
                    // the two accounts stay locked for everyone else.
                    return tx.execute("UPDATE " + accounts + " SET balance = balance + CASE WHEN id = $1"
                                    + " THEN CAST($2 AS BIGINT) ELSE CAST($3 AS BIGINT) END WHERE id IN ($4, $5)",
                                    request.from(), -request.amount(), request.amount(), request.from(), request.to())
                            .then(tx.execute("INSERT INTO " + ledger + " (transfer_id, account_id, amount)"
                                    + " VALUES ($1, $2, $3), ($4, $5, $6)", id, request.from(), -request.amount(),
                                    id, request.to(), request.amount()))
                            .thenReturn(new Transfer(id, request.from(), request.to(), request.amount(),
                                    fromBalance - request.amount(), toBalance + request.amount(), at));
                });
    }
}
