package dev.txstep.examples.readme;

import dev.dbos.transact.DBOS;
import dev.dbos.transact.workflow.Workflow;
import dev.txstep.BlockingDatasource;
import dev.txstep.DatasourceOptions;
import dev.txstep.reactor.dbos.DbosTxSteps;

/**
 * The README's "Use it inside DBOS Java workflows" snippet, on the PostgreSQL it names: the
 * adapter as a field of the class that registers the workflows, and the workflow's implementation.
 */
class DbosSnippet extends DbosApplication {

    record Transfer(String from, String to, long amount) {
    }

    /** The workflow's interface, as DBOS registers it. */
    interface Transfers {
        long transfer(Transfer t);
    }

    DbosSnippet(DBOS dbos) {
        super(dbos);
    }

    // README begin
    DbosTxSteps steps = DbosTxSteps.create(dbos, BlockingDatasource.create("r2dbc:postgresql://postgres@127.0.0.1:5432/postgres"));

    class TransfersImpl implements Transfers {
        @Workflow(name = "transfer")
        public long transfer(Transfer t) {
            long left = steps.runTxStep(DatasourceOptions.named("debit"), tx -> tx.query(
                    "UPDATE accounts SET balance = balance - $1 WHERE id = $2 RETURNING balance",
                    (row, meta) -> row.get(0, Long.class), t.amount(), t.from()).get(0));
            steps.runTxStep(DatasourceOptions.named("credit"), tx -> tx.execute(
                    "UPDATE accounts SET balance = balance + $1 WHERE id = $2", t.amount(), t.to()));
            return left;
        }
    }
    // README end
}
