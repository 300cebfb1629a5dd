package dev.txstep.examples;

import dev.txstep.AsyncDatasource;
import dev.txstep.DatasourceConfig;
import dev.txstep.DatasourceOptions;
import dev.txstep.IsolationLevel;
import dev.txstep.reactor.Workflow;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * A Reactor pipeline of transaction steps, killed half-way and resumed: a {@code Flux} of orders
 * flows through {@code concatMap} into one step per order (take the stock, write the shipment),
 * inside one workflow. The example starts itself as a child process, kills it with SIGKILL once
 * it has shipped {@code --kill-after} orders, then resumes the same workflow in this process:
 * the shipped orders replay from their recorded outputs, the rest run, and every order is shipped
 * exactly once — counted in the tables, not taken on trust.
 *
 * <p>Run it from the repository's root (embedded H2 in a fresh file database under the system's
 * temporary directory):
 * <pre>{@code mvn -B -q -DskipTests -Ppipeline package}</pre>
 * or on PostgreSQL: add {@code -Dexec.args="--url r2dbc:postgresql://postgres@127.0.0.1:5432/postgres"}.
 *
 * <p>Options: {@code --url}, {@code --schema} (default {@value #DEFAULT_SCHEMA}), {@code --orders}
 * (default 60), {@code --kill-after} (default 25).
 */
public final class ReactorPipeline {

    /** The schema holding the example's tables and {@code datasource_outputs}. */
    public static final String DEFAULT_SCHEMA = "pipeline";

    private static final String USAGE = "usage: ReactorPipeline [--url <r2dbc-url>] [--schema <name>]"
            + " [--orders <n>] [--kill-after <n>]";
    /** The stock each SKU starts with; an order takes {@code 1 + order % 3} units. */
    private static final int INITIAL_STOCK = 10_000;
    private static final int SKUS = 5;

    private ReactorPipeline() {
    }

    /**
     * What to run.
     *
     * @param url       the database; null for a fresh H2 file database
     * @param schema    the schema
     * @param orders    how many orders flow through the pipeline
     * @param killAfter the child is killed once it has shipped this many orders
     */
    public record Settings(String url, String schema, int orders, int killAfter) {

        /**
         * Reads the command line; anything not given keeps its default.
         *
         * @param args the command line
         * @return the settings
         * @throws IllegalArgumentException for an unknown option, a missing value, or a kill point
         *                                  outside 1..orders-1
         */
        public static Settings parse(String... args) {
            Settings s = new Settings(null, DEFAULT_SCHEMA, 60, 25);
            for (int i = 0; i < args.length; i += 2) {
                if (i + 1 >= args.length) {
                    throw new IllegalArgumentException("missing value after '" + args[i] + "'\n" + USAGE);
                }
                String value = args[i + 1];
                s = switch (args[i]) {
                    case "--url" -> new Settings(value, s.schema, s.orders, s.killAfter);
                    case "--schema" -> new Settings(s.url, value, s.orders, s.killAfter);
                    case "--orders" -> new Settings(s.url, s.schema, Integer.parseInt(value), s.killAfter);
                    case "--kill-after" -> new Settings(s.url, s.schema, s.orders, Integer.parseInt(value));
                    default -> throw new IllegalArgumentException("unknown option '" + args[i] + "'\n" + USAGE);
                };
            }
            if (s.killAfter < 1 || s.killAfter >= s.orders) {
                throw new IllegalArgumentException("--kill-after must be between 1 and orders - 1, was " + s.killAfter);
            }
            return s;
        }
    }

    /**
     * What happened, counted in the database.
     *
     * @param workflowId        the pipeline's workflow id
     * @param orders            orders in the pipeline
     * @param shippedBeforeKill shipments committed when the child was killed
     * @param ranOnResume       step functions the resumed run called (the rest replayed)
     * @param shipmentRows      rows in {@code shipments} after the resume
     * @param shippedOrders     distinct orders in {@code shipments}
     * @param unitsTaken        units taken from stock in all
     * @param unitsOrdered      units the orders asked for
     * @param recordedSteps     rows in {@code datasource_outputs} for the workflow
     */
    public record Summary(String workflowId, int orders, int shippedBeforeKill, int ranOnResume, int shipmentRows,
            int shippedOrders, long unitsTaken, long unitsOrdered, int recordedSteps) {

        /**
         * Whether every order was shipped exactly once: one shipment per order, the stock taken once
         * per order, one recorded output per order.
         *
         * @return true when the counts say exactly-once
         */
        public boolean exactlyOnce() {
            return shipmentRows == orders && shippedOrders == orders && unitsTaken == unitsOrdered
                    && recordedSteps == orders;
        }

        @Override
        public String toString() {
            return "Summary: killed after " + shippedBeforeKill + " of " + orders + " orders; the resume ran "
                    + ranOnResume + " and replayed " + (orders - ranOnResume) + "; shipments=" + shipmentRows
                    + " (distinct orders " + shippedOrders + "), units taken " + unitsTaken + " of " + unitsOrdered
                    + " ordered, datasource_outputs=" + recordedSteps + "; exactly once: " + exactlyOnce();
        }
    }

    /**
     * Runs the demonstration, or, with {@code --child <workflow-id>} first, the pipeline alone (what
     * the demonstration starts and kills).
     *
     * @param args see the class comment
     * @throws Exception if the demonstration cannot run
     */
    public static void main(String[] args) throws Exception {
        if (args.length > 0 && (args[0].equals("--help") || args[0].equals("-h"))) {
            System.out.println(USAGE);
            return;
        }
        if (args.length > 1 && args[0].equals("--child")) {
            String workflowId = args[1];
            Settings settings = Settings.parse(List.of(args).subList(2, args.length).toArray(String[]::new));
            runChild(settings, workflowId);
            return;
        }
        Summary summary = demo(Settings.parse(args), System.out);
        System.out.println(summary);
        if (!summary.exactlyOnce()) {
            throw new IllegalStateException("not exactly once: " + summary);
        }
    }

    /**
     * Creates the tables, runs the pipeline in a child process, kills it half-way, resumes the
     * workflow here and counts the rows.
     *
     * @param settings what to run
     * @param out      where to print
     * @return the counts
     * @throws Exception if the child cannot be started or the database cannot be reached
     */
    public static Summary demo(Settings settings, PrintStream out) throws Exception {
        Settings s = settings.url() != null ? settings : new Settings(freshH2File(), settings.schema(),
                settings.orders(), settings.killAfter());
        String workflowId = "pipeline-" + UUID.randomUUID().toString().substring(0, 8);
        out.println("Database " + s.url() + ", workflow " + workflowId + ", " + s.orders() + " orders");

        Pipeline setUp = Pipeline.open(s);
        try {
            setUp.createTables().block();
        } finally {
            setUp.close(); // the child must be able to open the database (H2 files take one process)
        }

        int shippedBeforeKill = runAndKill(s, workflowId, out);

        Pipeline pipeline = Pipeline.open(s);
        try {
            int committed = pipeline.count("SELECT COUNT(*) FROM " + pipeline.table("shipments")).block();
            out.println("After the kill: " + committed + " shipments committed (the child had printed " + shippedBeforeKill
                    + "); resuming workflow " + workflowId + " in this process");
            if (committed < shippedBeforeKill) {
                // Not a txstep effect: H2 writes commits to its file in the background, up to half a
                // second late, and a SIGKILL loses them. Each lost step lost its effects and its output
                // row together (one transaction), so the resume simply runs it again.
                out.println("  (H2 lost its last " + (shippedBeforeKill - committed) + " commits with the process:"
                        + " their effects and output rows went together, so those steps run again)");
            }
            long shipped = Workflow.run(workflowId, pipeline.ship(s.orders(), null)).block();
            if (shipped != s.orders()) {
                throw new IllegalStateException("the resumed pipeline emitted " + shipped + " of " + s.orders() + " orders");
            }
            return new Summary(workflowId, s.orders(), committed, pipeline.calls.get(),
                    pipeline.count("SELECT COUNT(*) FROM " + pipeline.table("shipments")).block(),
                    pipeline.count("SELECT COUNT(DISTINCT order_no) FROM " + pipeline.table("shipments")).block(),
                    pipeline.count("SELECT " + SKUS * INITIAL_STOCK + " - SUM(units) FROM " + pipeline.table("stock")).block(),
                    unitsOrdered(s.orders()),
                    pipeline.count("SELECT COUNT(*) FROM " + pipeline.table("datasource_outputs")
                            + " WHERE workflow_id = '" + workflowId + "'").block());
        } finally {
            pipeline.close();
        }
    }

    /** Starts the child, waits until it has shipped {@code killAfter} orders, kills it (SIGKILL). */
    private static int runAndKill(Settings s, String workflowId, PrintStream out) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", "-cp", classpath(), ReactorPipeline.class.getName(), "--child", workflowId, "--url", s.url(),
                "--schema", s.schema(), "--orders", String.valueOf(s.orders()),
                "--kill-after", String.valueOf(s.killAfter())));
        Process child = new ProcessBuilder(command).redirectErrorStream(true).start();
        int shipped = 0;
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = lines.readLine()) != null) {
                if (line.startsWith("shipped ")) {
                    shipped = Integer.parseInt(line.substring("shipped ".length()).trim());
                    if (shipped >= s.killAfter()) {
                        child.destroyForcibly(); // SIGKILL: no shutdown hook, no rollback sent, no goodbye
                        break;
                    }
                } else {
                    out.println("  child: " + line);
                }
            }
        } finally {
            child.destroyForcibly();
            child.waitFor(30, TimeUnit.SECONDS);
        }
        if (shipped < s.killAfter()) {
            throw new IllegalStateException("the child ended before it was killed (exit " + child.exitValue() + ")");
        }
        out.println("Killed the child (SIGKILL) after it printed 'shipped " + shipped + "'");
        return shipped;
    }

    /** The child: runs the pipeline, printing each shipped order, slowly enough to be killed mid-way. */
    private static void runChild(Settings s, String workflowId) {
        Pipeline pipeline = Pipeline.open(s);
        try {
            Workflow.run(workflowId, pipeline.ship(s.orders(), Duration.ofMillis(20))).block();
        } finally {
            pipeline.close();
        }
    }

    private static long unitsOrdered(int orders) {
        long units = 0;
        for (int order = 0; order < orders; order++) {
            units += 1 + order % 3;
        }
        return units;
    }

    private static String freshH2File() throws IOException {
        Path dir = Files.createTempDirectory("txstep-pipeline");
        // An absolute path after r2dbc:h2:file:// keeps its leading slash: four slashes in all.
        // WRITE_DELAY=0: H2 otherwise writes commits to its file up to half a second late, and a
        // SIGKILL would lose them (atomically: effects and output rows together, but the demo would
        // then show fewer steps surviving the kill than the child reported).
        return "r2dbc:h2:file:///" + dir.resolve("db").toAbsolutePath().toString().replace(File.separatorChar, '/')
                + ";WRITE_DELAY=0";
    }

    /** The class path to start the child with: this class loader's when Maven's exec plugin runs us. */
    private static String classpath() {
        if (ReactorPipeline.class.getClassLoader() instanceof URLClassLoader loader) {
            List<String> entries = new ArrayList<>();
            for (URL url : loader.getURLs()) {
                try {
                    entries.add(Path.of(url.toURI()).toString());
                } catch (Exception e) {
                    throw new IllegalStateException("cannot use class path entry " + url, e);
                }
            }
            return String.join(File.pathSeparator, entries);
        }
        return System.getProperty("java.class.path");
    }

    /**
     * The datasource, the tables and the pipeline's one step. Package-private for the example's
     * tests, which run the same pipeline on a datasource of their own ({@code PipelineKitTest}).
     */
    static final class Pipeline {

        private final AsyncDatasource ds;
        private final String schema;
        /** How often the step's function was really called in this process (replays do not call it). */
        private final AtomicInteger calls = new AtomicInteger();

        Pipeline(AsyncDatasource ds, String schema) {
            this.ds = ds;
            this.schema = schema;
        }

        static Pipeline open(Settings s) {
            return new Pipeline(AsyncDatasource.create(DatasourceConfig.builder().url(s.url()).schema(s.schema())
                    .maxPoolSize(2).build()).block(), s.schema());
        }

        String table(String name) {
            return "\"" + schema + "\"." + name;
        }

        Mono<Void> createTables() {
            return ds.runTxStepAsync(DatasourceOptions.named("createTables"), tx -> tx
                    .execute("CREATE TABLE " + table("stock") + " (sku INTEGER PRIMARY KEY, units INTEGER NOT NULL)")
                    // No key on order_no: a second shipment of an order would be a second row, and counted.
                    .then(tx.execute("CREATE TABLE " + table("shipments") + " (order_no INTEGER NOT NULL,"
                            + " tracking VARCHAR(64) NOT NULL)"))
                    .thenMany(Flux.range(0, SKUS).concatMap(sku -> tx.execute("INSERT INTO " + table("stock")
                            + " VALUES ($1, $2)", sku, INITIAL_STOCK)))
                    .then());
        }

        /**
         * The pipeline: orders 0..n-1 in order, one step each ({@code concatMap} keeps the step ids
         * those of the order numbers, run after run). Emits how many orders went through.
         */
        Mono<Long> ship(int orders, Duration pause) {
            return Flux.range(0, orders)
                    .concatMap(order -> {
                        Mono<String> step = shipOne(order)
                                .doOnNext(tracking -> {
                                    if (pause != null) {
                                        System.out.println("shipped " + (order + 1));
                                    }
                                });
                        return pause == null ? step : step.delayElement(pause);
                    })
                    .count();
        }

        private Mono<String> shipOne(int order) {
            int sku = order % SKUS;
            int units = 1 + order % 3;
            return ds.runTxStepAsync(new DatasourceOptions("ship", IsolationLevel.READ_COMMITTED), String.class, tx -> {
                calls.incrementAndGet();
                String tracking = "TRK-" + UUID.randomUUID().toString().substring(0, 8);
                return tx.execute("UPDATE " + table("stock") + " SET units = units - $1 WHERE sku = $2", units, sku)
                        .then(tx.execute("INSERT INTO " + table("shipments") + " VALUES ($1, $2)", order, tracking))
                        .thenReturn(tracking);
            });
        }

        Mono<Integer> count(String sql) {
            return ds.runTxStepAsync(new DatasourceOptions("count", IsolationLevel.READ_COMMITTED).asReadOnly(),
                    tx -> tx.query(sql, (row, meta) -> ((Number) row.get(0)).intValue()).single());
        }

        void close() {
            ds.close().block();
        }
    }
}
