package dev.txstep.examples;

import dev.txstep.BlockingDatasource;
import dev.txstep.DatasourceOptions;
import dev.txstep.IsolationLevel;
import dev.txstep.reactor.Workflow;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * txstep from plain blocking code: a fixed pool of threads settles a batch of invoices, each in a
 * workflow of two transaction steps run through {@link BlockingDatasource} — charge the invoice,
 * then mark it paid. Then the whole batch is submitted again, as a job scheduler retrying a batch
 * after a crash would: every step replays its recorded output, no invoice is charged twice.
 *
 * <p>Run it from the repository's root (embedded H2):
 * <pre>{@code mvn -B -q -DskipTests -Pblocking package}</pre>
 * or on PostgreSQL: add {@code -Dexec.args="--url r2dbc:postgresql://postgres@127.0.0.1:5432/postgres"}.
 */
public final class BlockingCaller {

    /** The database used without {@code --url}: H2 in this process's memory. */
    public static final String DEFAULT_URL = "r2dbc:h2:mem:///blocking";
    private static final int THREADS = 8;
    private static final int INVOICES = 40;

    private BlockingCaller() {
    }

    /**
     * What happened, counted in the database.
     *
     * @param functionsRun1 step functions the first pass called
     * @param functionsRun2 step functions the second pass called (0: everything replayed)
     * @param samePayments  whether both passes returned the same payment ids
     * @param paymentRows   rows in {@code payments}
     * @param paidInvoices  invoices marked paid
     * @param recordedSteps rows in {@code datasource_outputs}
     */
    public record Summary(int functionsRun1, int functionsRun2, boolean samePayments, int paymentRows,
            int paidInvoices, int recordedSteps) {

        /**
         * Whether each invoice was charged once and the second pass only replayed.
         *
         * @return true when the counts say exactly-once
         */
        public boolean exactlyOnce() {
            return functionsRun1 == 2 * INVOICES && functionsRun2 == 0 && samePayments && paymentRows == INVOICES
                    && paidInvoices == INVOICES && recordedSteps == 2 * INVOICES;
        }

        @Override
        public String toString() {
            return "Summary: pass 1 called " + functionsRun1 + " step functions, pass 2 called " + functionsRun2
                    + "; same payment ids: " + samePayments + "; payments=" + paymentRows + ", paid invoices="
                    + paidInvoices + ", datasource_outputs=" + recordedSteps + "; exactly once: " + exactlyOnce();
        }
    }

    /**
     * Runs the example.
     *
     * @param args {@code [--url <r2dbc-url>]}
     * @throws Exception if a worker fails
     */
    public static void main(String[] args) throws Exception {
        String url = args.length == 2 && args[0].equals("--url") ? args[1] : DEFAULT_URL;
        if (args.length != 0 && args.length != 2) {
            throw new IllegalArgumentException("usage: BlockingCaller [--url <r2dbc-url>]");
        }
        Summary summary = run(url, "blocking_" + UUID.randomUUID().toString().substring(0, 8), System.out);
        System.out.println(summary);
        if (!summary.exactlyOnce()) {
            throw new IllegalStateException("not exactly once: " + summary);
        }
    }

    /**
     * Creates the tables, settles the batch twice on a fixed thread pool, counts the rows.
     *
     * @param url    the database
     * @param schema a schema of its own for the example's tables and {@code datasource_outputs}
     * @param out    where to print
     * @return the counts
     * @throws Exception if a worker fails
     */
    public static Summary run(String url, String schema, PrintStream out) throws Exception {
        String batch = "batch-" + UUID.randomUUID().toString().substring(0, 8);
        AtomicInteger calls = new AtomicInteger();
        try (BlockingDatasource ds = BlockingDatasource.create(
                dev.txstep.DatasourceConfig.builder().url(url).schema(schema).maxPoolSize(THREADS).build())) {
            String invoices = "\"" + schema + "\".invoices";
            String payments = "\"" + schema + "\".payments";
            // Outside a workflow a step is a plain transaction: nothing recorded.
            ds.runTxStep(DatasourceOptions.named("setUp"), tx -> {
                tx.execute("CREATE TABLE " + invoices + " (id INTEGER PRIMARY KEY, amount_cents BIGINT NOT NULL,"
                        + " paid BOOLEAN NOT NULL)");
                tx.execute("CREATE TABLE " + payments + " (payment_id VARCHAR(64) PRIMARY KEY, invoice_id INTEGER NOT NULL)");
                for (int i = 0; i < INVOICES; i++) {
                    tx.execute("INSERT INTO " + invoices + " VALUES ($1, $2, FALSE)", i, 100L * (i + 1));
                }
                return null;
            });

            // The two steps, as functions: each call is one step of the calling thread's workflow.
            var charge = ds.<Integer, String>transaction(new DatasourceOptions("charge", IsolationLevel.SERIALIZABLE),
                    (tx, invoice) -> {
                        calls.incrementAndGet();
                        String paymentId = "pay-" + UUID.randomUUID().toString().substring(0, 8);
                        tx.execute("INSERT INTO " + payments + " VALUES ($1, $2)", paymentId, invoice);
                        return paymentId;
                    });
            var markPaid = ds.<Integer, Long>transaction(DatasourceOptions.named("markPaid"), (tx, invoice) -> {
                calls.incrementAndGet();
                return tx.execute("UPDATE " + invoices + " SET paid = TRUE WHERE id = $1", invoice);
            });

            ExecutorService pool = Executors.newFixedThreadPool(THREADS);
            try {
                List<String> first = settle(pool, batch, charge::apply, markPaid::apply);
                int afterFirst = calls.get();
                out.println("Pass 1: " + afterFirst + " step functions ran on " + THREADS + " threads");
                List<String> second = settle(pool, batch, charge::apply, markPaid::apply);
                out.println("Pass 2 (the same batch again): " + (calls.get() - afterFirst) + " step functions ran");
                return new Summary(afterFirst, calls.get() - afterFirst, first.equals(second),
                        count(ds, "SELECT COUNT(*) FROM " + payments),
                        count(ds, "SELECT COUNT(*) FROM " + invoices + " WHERE paid"),
                        count(ds, "SELECT COUNT(*) FROM \"" + schema + "\".datasource_outputs"));
            } finally {
                pool.shutdownNow();
            }
        }
    }

    /** Settles every invoice on the pool: one workflow per invoice, its id derived from the batch. */
    private static List<String> settle(ExecutorService pool, String batch,
            java.util.function.IntFunction<String> charge, java.util.function.IntFunction<Long> markPaid)
            throws Exception {
        List<Future<String>> results = new ArrayList<>();
        for (int i = 0; i < INVOICES; i++) {
            int invoice = i;
            results.add(pool.submit(() -> Workflow.runBlocking(batch + "-invoice-" + invoice, () -> {
                String paymentId = charge.apply(invoice);
                markPaid.apply(invoice);
                return paymentId;
            })));
        }
        List<String> paymentIds = new ArrayList<>();
        for (Future<String> result : results) {
            paymentIds.add(result.get());
        }
        return paymentIds;
    }

    private static int count(BlockingDatasource ds, String sql) {
        return ds.runTxStep(DatasourceOptions.named("count").asReadOnly(),
                tx -> tx.query(sql, (row, meta) -> ((Number) row.get(0)).intValue()).get(0));
    }
}
