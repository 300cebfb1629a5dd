package dev.txstep.examples.readme;

import dev.txstep.AsyncDatasource;
import dev.txstep.DatasourceOptions;
import dev.txstep.IsolationLevel;
import dev.txstep.reactor.Workflow;
import java.util.function.Function;
import reactor.core.publisher.Mono;

/** The README's "Use it from reactive code" snippet, on the PostgreSQL it names. */
class ReactiveSnippet implements AutoCloseable {

    record Transfer(String from, String to, long amount) {
    }

    record Receipt(long id, long amount) {
    }

    // README begin
    AsyncDatasource ds = AsyncDatasource.create("r2dbc:postgresql://postgres@127.0.0.1:5432/postgres").block(); // once, at start-up

    // The Java form of @transaction: each call of debit.apply(...) is one step.
    Function<Transfer, Mono<Long>> debit = ds.transaction(DatasourceOptions.named("debit"),
            (tx, t) -> tx.execute("UPDATE accounts SET balance = balance - $1 WHERE id = $2", t.amount(), t.from()));

    Mono<Receipt> transfer(String idempotencyKey, Transfer t) {
        return Workflow.run(idempotencyKey,                        // steps inside get ids 0, 1, 2, ...
                debit.apply(t)
                    .then(ds.runTxStepAsync(new DatasourceOptions("credit", IsolationLevel.SERIALIZABLE),
                            tx -> tx.execute("UPDATE accounts SET balance = balance + $1 WHERE id = $2",
                                    t.amount(), t.to())))
                    .then(ds.runTxStepAsync(DatasourceOptions.named("receipt"),
                            tx -> tx.query("INSERT INTO receipts (amount) VALUES ($1) RETURNING id",
                                            (row, meta) -> new Receipt(row.get(0, Long.class), t.amount()), t.amount())
                                    .single())));
    }
    // A retried request with the same key gets the same Receipt; no account is debited twice.
    // README end

    @Override
    public void close() {
        ds.close().block();
    }
}
