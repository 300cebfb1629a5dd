package dev.txstep.examples;

import dev.txstep.AsyncDatasource;
import dev.txstep.DatasourceConfig;
import dev.txstep.DatasourceOptions;
import dev.txstep.IsolationLevel;
import dev.txstep.TxSession;
import dev.txstep.reactor.Workflow;
import java.io.PrintStream;
import java.util.List;
import java.util.Locale;
import java.util.StringJoiner;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The txstep quick start: an order workflow of three transaction steps — reserve stock, charge
 * the customer, record the shipment — run twice under the same workflow id. The first run runs
 * every step; the second runs none of them and returns the recorded outputs instead.
 *
 * <p>Run it from the repository's root on an embedded H2 database (builds everything first,
 * installs nothing):
 * <pre>{@code mvn -B -q -DskipTests -Pquickstart package}</pre>
 * or on PostgreSQL:
 * <pre>{@code mvn -B -q -DskipTests -Pquickstart package \
 *     -Dexec.args="--url r2dbc:postgresql://postgres@127.0.0.1:5432/postgres"}</pre>
 *
 * <p>Options: {@code --url <r2dbc-url>} (default {@value #DEFAULT_URL}), {@code --schema <name>}
 * (default {@value #DEFAULT_SCHEMA}), {@code --workflow-id <id>} (default: a fresh
 * {@code order-…} id per process).
 */
public final class QuickStart {

    /**
     * The database used without {@code --url}: H2 in this process's memory. Every run starts from
     * an empty database and leaves nothing behind, so every run tells the same story. (To see a
     * workflow replayed by a later process, run twice with a file database and a fixed id, e.g.
     * {@code --url r2dbc:h2:file:///./target/quickstart --workflow-id order-1}: the second
     * process replays all six steps.)
     */
    public static final String DEFAULT_URL = "r2dbc:h2:mem:///quickstart";

    /** The schema holding both this example's tables and txstep's {@code datasource_outputs}. */
    public static final String DEFAULT_SCHEMA = "quickstart";

    private static final String USAGE = "usage: QuickStart [--url <r2dbc-url>] [--schema <name>] [--workflow-id <id>]";

    private QuickStart() {
    }

    /**
     * What to run against.
     *
     * @param url        the R2DBC URL of the database
     * @param schema     the schema for the example's tables and for {@code datasource_outputs}
     * @param workflowId the workflow's id, which is also the order's id (an idempotency key)
     */
    public record Settings(String url, String schema, String workflowId) {

        /**
         * The defaults: embedded H2, schema {@value QuickStart#DEFAULT_SCHEMA}, a fresh workflow id.
         *
         * @return default settings
         */
        public static Settings defaults() {
            return new Settings(DEFAULT_URL, DEFAULT_SCHEMA, "order-" + UUID.randomUUID().toString().substring(0, 8));
        }

        /**
         * Reads {@code --url}, {@code --schema} and {@code --workflow-id}; anything not given keeps
         * its default.
         *
         * @param args the command line
         * @return the settings
         * @throws IllegalArgumentException for an unknown option or a missing value
         */
        public static Settings parse(String... args) {
            Settings s = defaults();
            for (int i = 0; i < args.length; i++) {
                String option = args[i];
                if (i + 1 >= args.length) {
                    throw new IllegalArgumentException("missing value after '" + option + "'\n" + USAGE);
                }
                String value = args[++i];
                switch (option) {
                    case "--url" -> s = new Settings(value, s.schema(), s.workflowId());
                    case "--schema" -> s = new Settings(s.url(), value, s.workflowId());
                    case "--workflow-id" -> s = new Settings(s.url(), s.schema(), value);
                    default -> throw new IllegalArgumentException("unknown option '" + option + "'\n" + USAGE);
                }
            }
            return s;
        }
    }

    /**
     * The workflow's input.
     *
     * @param orderId        the order's id
     * @param sku            the product
     * @param quantity       how many
     * @param unitPriceCents the price of one, in cents
     */
    public record Order(String orderId, String sku, int quantity, long unitPriceCents) {
    }

    /**
     * The workflow's result, assembled from the three steps' outputs.
     *
     * @param orderId        the order's id
     * @param unitsReserved  the output of {@code reserveStock}
     * @param paymentId      the output of {@code chargeAccount}: random, so an equal value on the
     *                       second run proves it was replayed rather than computed again
     * @param trackingNumber the output of {@code recordShipment}: random too
     */
    public record Receipt(String orderId, int unitsReserved, String paymentId, String trackingNumber) {
    }

    /**
     * What happened, for {@code main} to print and for tests to check.
     *
     * @param workflowId       the workflow's id
     * @param firstRun         the first run's result
     * @param secondRun        the second run's result
     * @param functionsRun1    how many step functions the first run called
     * @param functionsRun2    how many step functions the second run called (0: all replayed)
     * @param orderRows        rows in {@code orders} for this order
     * @param paymentRows      rows in {@code payments} for this order
     * @param shipmentRows     rows in {@code shipments} for this order
     * @param recordedSteps    rows in {@code datasource_outputs} for this workflow
     */
    public record Summary(String workflowId, Receipt firstRun, Receipt secondRun, int functionsRun1,
            int functionsRun2, int orderRows, int paymentRows, int shipmentRows, int recordedSteps) {

        /**
         * Whether the second run ran nothing and returned what the first returned.
         *
         * @return true when every step was replayed
         */
        public boolean secondRunReplayedEverything() {
            return functionsRun2 == 0 && firstRun.equals(secondRun);
        }

        @Override
        public String toString() {
            return "Summary: run 1 called " + functionsRun1 + " step functions, run 2 called " + functionsRun2
                    + "; results equal: " + firstRun.equals(secondRun) + "; rows for " + workflowId
                    + ": orders=" + orderRows + " payments=" + paymentRows + " shipments=" + shipmentRows
                    + " datasource_outputs=" + recordedSteps;
        }
    }

    /**
     * Runs the quick start with the command line's settings and prints what happens.
     *
     * @param args {@code [--url <r2dbc-url>] [--schema <name>] [--workflow-id <id>]}
     * @throws IllegalStateException if the second run ran a step again (it never should)
     */
    public static void main(String[] args) {
        if (args.length > 0 && (args[0].equals("--help") || args[0].equals("-h"))) {
            System.out.println(USAGE);
            return;
        }
        Settings settings = Settings.parse(args);
        // main is the only place that waits: everything below it is a lazy, non-blocking Mono.
        Summary summary = run(settings, System.out).block();
        System.out.println(summary);
        if (summary == null || !summary.secondRunReplayedEverything()) {
            throw new IllegalStateException("the second run was not a pure replay: " + summary);
        }
    }

    /**
     * The quick start as a {@code Mono}: creates the datasource, creates the example's tables,
     * runs the workflow twice with the same id, prints the tables and closes the datasource.
     *
     * @param settings where and under which id to run
     * @param out      where to print
     * @return on subscribe, does all that and emits the summary
     */
    public static Mono<Summary> run(Settings settings, PrintStream out) {
        DatasourceConfig config = DatasourceConfig.builder()
                .url(settings.url())
                // txstep keeps datasource_outputs in schema "dbos" by default; here it shares the
                // example's schema so one DROP SCHEMA removes everything the example made.
                .schema(settings.schema())
                .build();
        // create() connects and installs datasource_outputs; usingWhen closes the datasource
        // (its connection pool) however the rest ends: success, error or cancellation.
        return Mono.usingWhen(AsyncDatasource.create(config),
                ds -> new Shop(ds, settings.schema(), out).demo(settings.workflowId()),
                AsyncDatasource::close);
    }

    /** The example's tables, its three steps and the workflow made of them. */
    private static final class Shop {

        private final AsyncDatasource ds;
        private final String schema;
        private final PrintStream out;

        // How often each step's function was really called. A replayed step does not call it.
        private final AtomicInteger reserveCalls = new AtomicInteger();
        private final AtomicInteger chargeCalls = new AtomicInteger();
        private final AtomicInteger shipCalls = new AtomicInteger();

        private final Function<Order, Mono<Integer>> reserveStock;
        private final Function<Order, Mono<String>> chargeAccount;
        private final Function<Order, Mono<String>> recordShipment;

        Shop(AsyncDatasource ds, String schema, PrintStream out) {
            this.ds = ds;
            this.schema = schema;
            this.out = out;

            // Each transaction(...) turns a function into a step: a call returns a lazy Mono that, in a
            // workflow, runs the function in one transaction together with recording its output, or,
            // if the output is already recorded, returns it without calling the function. Explicit
            // names are recorded with the output and checked on replay, so renaming a Java method
            // cannot silently attach old outputs to different code.
            this.reserveStock = ds.transaction(DatasourceOptions.named("reserveStock"), (TxSession tx, Order o) -> {
                reserveCalls.incrementAndGet();
                return tx.execute("INSERT INTO " + table("orders") + " (order_id, sku, quantity, status)"
                                + " VALUES ($1, $2, $3, 'RESERVED')", o.orderId(), o.sku(), o.quantity())
                        .thenReturn(o.quantity());
            });

            this.chargeAccount = ds.transaction(DatasourceOptions.named("chargeAccount"), (TxSession tx, Order o) -> {
                chargeCalls.incrementAndGet();
                // A fresh random id: if this function ran twice, there would be two payments.
                String paymentId = "pay-" + UUID.randomUUID().toString().substring(0, 8);
                return tx.execute("INSERT INTO " + table("payments") + " (payment_id, order_id, amount_cents)"
                                + " VALUES ($1, $2, $3)", paymentId, o.orderId(), o.quantity() * o.unitPriceCents())
                        .thenReturn(paymentId);
            });

            this.recordShipment = ds.transaction(DatasourceOptions.named("recordShipment"), (TxSession tx, Order o) -> {
                shipCalls.incrementAndGet();
                String trackingNumber = "TRK-" + UUID.randomUUID().toString().substring(0, 8).toUpperCase(Locale.ROOT);
                // Two statements, one transaction: both happen, or (on error) neither.
                return tx.execute("INSERT INTO " + table("shipments") + " (tracking_number, order_id) VALUES ($1, $2)",
                                trackingNumber, o.orderId())
                        .then(tx.execute("UPDATE " + table("orders") + " SET status = 'SHIPPED' WHERE order_id = $1",
                                o.orderId()))
                        .thenReturn(trackingNumber);
            });
        }

        /** Creates the tables, runs the workflow twice, prints the tables. */
        Mono<Summary> demo(String workflowId) {
            Order order = new Order(workflowId, "sku-42", 2, 1250);
            return createTables()
                    .then(runOnce("Run 1 of workflow " + workflowId, order))
                    // zipWhen waits for run 1 to finish before it starts run 2.
                    .zipWhen(first -> runOnce("Run 2 of workflow " + workflowId + " (same id)", order))
                    .flatMap(runs -> printTables(workflowId).map(rows -> new Summary(workflowId,
                            runs.getT1().receipt(), runs.getT2().receipt(),
                            runs.getT1().functionsRun(), runs.getT2().functionsRun(),
                            rows.get(0), rows.get(1), rows.get(2), rows.get(3))));
        }

        /**
         * The workflow: the three steps in sequence, each fed by the one before. Its id is the
         * order's id, so running the same order again replays rather than repeats it.
         */
        Mono<Receipt> placeOrder(Order order) {
            Mono<Receipt> body = traced("reserveStock", reserveCalls, reserveStock.apply(order))
                    .flatMap(units -> traced("chargeAccount", chargeCalls, chargeAccount.apply(order))
                            .flatMap(paymentId -> traced("recordShipment", shipCalls, recordShipment.apply(order))
                                    .map(tracking -> new Receipt(order.orderId(), units, paymentId, tracking))));
            // Workflow.run gives the steps subscribed inside it the ids (workflowId, 0), (…, 1), (…, 2).
            return Workflow.run(order.orderId(), body);
        }

        private record RunResult(Receipt receipt, int functionsRun) {
        }

        private Mono<RunResult> runOnce(String title, Order order) {
            return Mono.defer(() -> {
                out.println(title + ":");
                int before = totalCalls();
                return placeOrder(order).map(receipt -> {
                    out.println("  -> " + receipt);
                    return new RunResult(receipt, totalCalls() - before);
                });
            });
        }

        /** Prints whether a step's function was called (RAN) or its recorded output returned (REPLAYED). */
        private <T> Mono<T> traced(String stepName, AtomicInteger calls, Mono<T> step) {
            return Mono.defer(() -> {
                int before = calls.get();
                return step.doOnNext(output -> out.printf("  %-15s %-9s output: %s%n", stepName,
                        calls.get() > before ? "RAN" : "REPLAYED", output));
            });
        }

        private int totalCalls() {
            return reserveCalls.get() + chargeCalls.get() + shipCalls.get();
        }

        /**
         * Creates the example's tables. A step run outside any workflow is a plain transaction:
         * it runs (retried on serialization failures) and nothing is recorded.
         */
        private Mono<Void> createTables() {
            return ds.runTxStepAsync(DatasourceOptions.named("createTables"), tx -> tx
                    .execute("CREATE TABLE IF NOT EXISTS " + table("orders") + " (order_id VARCHAR(64) PRIMARY KEY,"
                            + " sku VARCHAR(32) NOT NULL, quantity INTEGER NOT NULL, status VARCHAR(16) NOT NULL)")
                    .then(tx.execute("CREATE TABLE IF NOT EXISTS " + table("payments") + " (payment_id VARCHAR(64)"
                            + " PRIMARY KEY, order_id VARCHAR(64) NOT NULL, amount_cents BIGINT NOT NULL)"))
                    .then(tx.execute("CREATE TABLE IF NOT EXISTS " + table("shipments") + " (tracking_number"
                            + " VARCHAR(64) PRIMARY KEY, order_id VARCHAR(64) NOT NULL)"))).then();
        }

        /** Prints this order's rows and this workflow's recorded steps; emits the four row counts. */
        private Mono<List<Integer>> printTables(String workflowId) {
            // concat runs the queries one after another, so the tables print in this order.
            return Flux.concat(
                    printRows("orders", "SELECT order_id, sku, quantity, status FROM " + table("orders")
                            + " WHERE order_id = $1", workflowId),
                    printRows("payments", "SELECT payment_id, order_id, amount_cents FROM " + table("payments")
                            + " WHERE order_id = $1", workflowId),
                    printRows("shipments", "SELECT tracking_number, order_id FROM " + table("shipments")
                            + " WHERE order_id = $1", workflowId),
                    printRows("datasource_outputs", "SELECT workflow_id, step_id, step_name, output FROM "
                            + table("datasource_outputs") + " WHERE workflow_id = $1 ORDER BY step_id", workflowId))
                    .collectList();
        }

        private Mono<Integer> printRows(String tableName, String sql, String workflowId) {
            // A read-only transaction outside the workflow. READ COMMITTED because reading
            // datasource_outputs at SERIALIZABLE (the step default) would take predicate locks that
            // make concurrently running steps fail and retry.
            DatasourceOptions read = new DatasourceOptions("print " + tableName, IsolationLevel.READ_COMMITTED);
            return ds.runTxStepAsync(read, tx -> tx.query(sql, (row, meta) -> {
                StringJoiner line = new StringJoiner("  ", "  ", "");
                for (int i = 0; i < meta.getColumnMetadatas().size(); i++) {
                    line.add(meta.getColumnMetadata(i).getName().toLowerCase(Locale.ROOT) + "=" + row.get(i));
                }
                return line.toString();
            }, workflowId).collectList()).map(lines -> {
                out.println(table(tableName) + ":\n" + String.join("\n", lines));
                return lines.size();
            });
        }

        /** A table name in the example's schema, quoted because the schema is created quoted. */
        private String table(String name) {
            return "\"" + schema + "\"." + name;
        }
    }
}
