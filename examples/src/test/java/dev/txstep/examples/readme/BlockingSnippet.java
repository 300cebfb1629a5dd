package dev.txstep.examples.readme;

import dev.txstep.BlockingDatasource;
import dev.txstep.DatasourceOptions;
import dev.txstep.reactor.Workflow;

/** The README's "Use it from blocking code" snippet, on the embedded H2 it names. */
final class BlockingSnippet {

    private BlockingSnippet() {
    }

    static void run() {
        // README begin
        try (BlockingDatasource ds = BlockingDatasource.create("r2dbc:h2:mem:///app")) {
            ds.runTxStep(tx -> tx.execute("CREATE TABLE IF NOT EXISTS inbox (id INT PRIMARY KEY, done BOOLEAN)"));
            long total = Workflow.runBlocking("nightly-2026-11-26", () -> {
                ds.runTxStep(DatasourceOptions.named("archive"), tx -> tx.execute("DELETE FROM inbox WHERE done"));
                return ds.runTxStep(DatasourceOptions.named("count"),
                        tx -> tx.query("SELECT COUNT(*) FROM inbox", (row, meta) -> row.get(0, Long.class)).get(0));
            });
            System.out.println(total + " left in the inbox");
        }
        // README end
    }
}
