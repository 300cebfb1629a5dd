package dev.txstep.examples;

import dev.dbos.transact.DBOS;
import dev.dbos.transact.StartWorkflowOptions;
import dev.dbos.transact.config.DBOSConfig;
import dev.dbos.transact.workflow.StepInfo;
import dev.dbos.transact.workflow.Workflow;
import dev.dbos.transact.workflow.WorkflowHandle;
import dev.dbos.transact.workflow.WorkflowStatus;
import dev.txstep.AsyncDatasource;
import dev.txstep.BlockingDatasource;
import dev.txstep.BlockingTxSession;
import dev.txstep.DatasourceConfig;
import dev.txstep.DatasourceOptions;
import dev.txstep.IsolationLevel;
import dev.txstep.observe.StepEvent;
import dev.txstep.observe.StepObserver;
import dev.txstep.observe.StepOutcome;
import dev.txstep.reactor.dbos.DbosTxSteps;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.StringJoiner;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * A DBOS Java workflow whose steps are txstep transaction steps: a transfer between two accounts
 * in three steps — debit, credit, receipt — each one transaction that also records its output.
 * {@link DbosTxSteps} runs each as a DBOS step, keyed by DBOS's workflow id and step id, so DBOS's
 * recovery and txstep's replay agree: after a crash, no step's transaction runs twice, whichever
 * record (DBOS's or txstep's) the recovery finds.
 *
 * <p><b>Needs PostgreSQL</b>: DBOS keeps its workflows in a system database on a PostgreSQL server
 * ({@value #DEFAULT_SYSTEM_DB_URL} unless {@code --system-db-url} says otherwise; DBOS creates it
 * at its first launch). The accounts and txstep's {@code datasource_outputs} go to schema
 * {@value #DEFAULT_SCHEMA} of the database at {@code --url} (default {@value #DEFAULT_URL}).
 * Run it from the repository's root (builds everything first, installs nothing):
 * <pre>{@code mvn -B -q -DskipTests -Pdbos-example package}</pre>
 *
 * <p>To see a crash recovered, stop a run right after txstep committed step {@code credit} and
 * before DBOS recorded it (the process halts, as if killed), then run again with the same id:
 * <pre>{@code mvn -B -q -DskipTests -Pdbos-example package -Dexec.args="--workflow-id t-1 --crash-after credit"
 * mvn -B -q -DskipTests -Pdbos-example package -Dexec.args="--workflow-id t-1"}</pre>
 * The second run's DBOS recovers the workflow when it launches: {@code debit} comes back from
 * DBOS's record, {@code credit} from txstep's (DBOS runs the step again; txstep returns the
 * recorded output without running the transaction), and {@code receipt} runs.
 *
 * <p>Options: {@code --url}, {@code --schema}, {@code --system-db-url}, {@code --system-db-user}
 * (default {@code postgres}), {@code --system-db-password} (default empty), {@code --workflow-id}
 * (default: a fresh {@code transfer-…} id), {@code --crash-after debit|credit|receipt}.
 */
public final class DbosWorkflowExample {

    /** The database for the accounts and {@code datasource_outputs} without {@code --url}. */
    public static final String DEFAULT_URL = "r2dbc:postgresql://postgres@127.0.0.1:5432/postgres";

    /** The schema holding the example's tables and txstep's {@code datasource_outputs}. */
    public static final String DEFAULT_SCHEMA = "dbos_example";

    /** DBOS's system database without {@code --system-db-url}. */
    public static final String DEFAULT_SYSTEM_DB_URL = "jdbc:postgresql://127.0.0.1:5432/txstep_dbos_example";

    /**
     * The application version DBOS records with each workflow and recovers by. Fixed, so a later
     * run of this example recovers what an earlier one left pending (DBOS's default is a hash of
     * the workflow classes, which changes with every edit of them).
     */
    static final String APP_VERSION = "txstep-dbos-example-1";

    /** The exit status of a run stopped by {@code --crash-after}: as a SIGKILL's, 128 + 9. */
    public static final int CRASH_EXIT_STATUS = 137;

    private static final List<String> STEPS = List.of("debit", "credit", "receipt");
    private static final String USAGE = "usage: DbosWorkflowExample [--url <r2dbc-url>] [--schema <name>]"
            + " [--system-db-url <jdbc-url>] [--system-db-user <user>] [--system-db-password <password>]"
            + " [--workflow-id <id>] [--crash-after debit|credit|receipt]";

    private DbosWorkflowExample() {
    }

    /**
     * What to run against.
     *
     * @param url              the R2DBC URL of the application database
     * @param schema           the schema for the example's tables and {@code datasource_outputs}
     * @param systemDbUrl      the JDBC URL of DBOS's system database
     * @param systemDbUser     its user
     * @param systemDbPassword its password (empty for none)
     * @param workflowId       the workflow's id, also the transfer's id
     * @param crashAfter       the step after whose txstep commit the process halts, or null
     */
    public record Settings(String url, String schema, String systemDbUrl, String systemDbUser,
            String systemDbPassword, String workflowId, String crashAfter) {

        /**
         * The defaults: PostgreSQL on 127.0.0.1:5432 for both databases, a fresh workflow id, no crash.
         *
         * @return default settings
         */
        public static Settings defaults() {
            return new Settings(DEFAULT_URL, DEFAULT_SCHEMA, DEFAULT_SYSTEM_DB_URL, "postgres", "",
                    "transfer-" + UUID.randomUUID().toString().substring(0, 8), null);
        }

        /**
         * Reads the options; anything not given keeps its default.
         *
         * @param args the command line
         * @return the settings
         * @throws IllegalArgumentException for an unknown option, a missing value or an unknown step
         */
        public static Settings parse(String... args) {
            Settings s = defaults();
            for (int i = 0; i < args.length; i++) {
                String option = args[i];
                if (i + 1 >= args.length) {
                    throw new IllegalArgumentException("missing value after '" + option + "'\n" + USAGE);
                }
                String v = args[++i];
                s = switch (option) {
                    case "--url" -> new Settings(v, s.schema, s.systemDbUrl, s.systemDbUser, s.systemDbPassword,
                            s.workflowId, s.crashAfter);
                    case "--schema" -> new Settings(s.url, v, s.systemDbUrl, s.systemDbUser, s.systemDbPassword,
                            s.workflowId, s.crashAfter);
                    case "--system-db-url" -> new Settings(s.url, s.schema, v, s.systemDbUser, s.systemDbPassword,
                            s.workflowId, s.crashAfter);
                    case "--system-db-user" -> new Settings(s.url, s.schema, s.systemDbUrl, v, s.systemDbPassword,
                            s.workflowId, s.crashAfter);
                    case "--system-db-password" -> new Settings(s.url, s.schema, s.systemDbUrl, s.systemDbUser, v,
                            s.workflowId, s.crashAfter);
                    case "--workflow-id" -> new Settings(s.url, s.schema, s.systemDbUrl, s.systemDbUser,
                            s.systemDbPassword, v, s.crashAfter);
                    case "--crash-after" -> {
                        if (!STEPS.contains(v)) {
                            throw new IllegalArgumentException("--crash-after takes one of " + STEPS + "\n" + USAGE);
                        }
                        yield new Settings(s.url, s.schema, s.systemDbUrl, s.systemDbUser, s.systemDbPassword,
                                s.workflowId, v);
                    }
                    default -> throw new IllegalArgumentException("unknown option '" + option + "'\n" + USAGE);
                };
            }
            return s;
        }
    }

    /**
     * The workflow's input.
     *
     * @param from        the account debited
     * @param to          the account credited
     * @param amountCents how much
     */
    public record Transfer(String from, String to, long amountCents) {
    }

    /**
     * The workflow's result, made of its three steps' outputs.
     *
     * @param transferId       the workflow's id
     * @param fromBalanceCents the output of {@code debit}: the debited account's new balance
     * @param toBalanceCents   the output of {@code credit}: the credited account's new balance
     * @param receiptId        the output of {@code receipt}: the id the database gave the receipt row
     */
    public record Receipt(String transferId, long fromBalanceCents, long toBalanceCents, long receiptId) {
    }

    /** The DBOS workflow, as DBOS registers it: an interface and its implementation. */
    public interface Transfers {

        /**
         * Moves money between two accounts, as steps 0 ({@code debit}), 1 ({@code credit}) and
         * 2 ({@code receipt}) of a DBOS workflow.
         *
         * @param transfer what to move
         * @return the receipt
         */
        Receipt transfer(Transfer transfer);
    }

    /**
     * What happened, for {@code main} to print and for tests to check.
     *
     * @param workflowId     the workflow's id
     * @param receipt        the workflow's result
     * @param steps          how each step of this process's execution ended, e.g. {@code "debit RAN"},
     *                       {@code "credit REPLAYED from txstep's record"} (empty when the workflow
     *                       was already complete)
     * @param again          the result of starting the same workflow id once more
     * @param functionsAgain how many step functions that ran (0: DBOS returned the recorded result)
     * @param txstepSteps    the rows of {@code datasource_outputs} for the workflow, {@code "<id>:<name>"}
     * @param dbosSteps      the steps DBOS recorded for the workflow, {@code "<id>:<name>"}
     */
    public record Summary(String workflowId, Receipt receipt, List<String> steps, Receipt again, int functionsAgain,
            List<String> txstepSteps, List<String> dbosSteps) {

        @Override
        public String toString() {
            return "Summary: steps " + steps + "; the same id again called " + functionsAgain
                    + " step functions; results equal: " + receipt.equals(again) + "; txstep recorded "
                    + txstepSteps + ", DBOS recorded " + dbosSteps;
        }
    }

    /**
     * Runs the example with the command line's settings and prints what happens.
     *
     * @param args see the class comment
     * @throws IllegalStateException if txstep and DBOS disagree on the workflow's steps (they never should)
     */
    public static void main(String[] args) {
        if (args.length > 0 && (args[0].equals("--help") || args[0].equals("-h"))) {
            System.out.println(USAGE);
            return;
        }
        Summary summary = run(Settings.parse(args), System.out);
        System.out.println(summary);
        if (!summary.txstepSteps().equals(summary.dbosSteps()) || !summary.receipt().equals(summary.again())) {
            throw new IllegalStateException("txstep and DBOS disagree: " + summary);
        }
    }

    /**
     * The example: creates the tables, launches DBOS (which recovers what an earlier run left
     * pending), runs the transfer workflow (or waits for its recovery), starts the same id once
     * more, prints the tables, and shuts everything down.
     *
     * @param settings where and under which id to run; with {@code crashAfter}, the process halts
     *                 with status {@value #CRASH_EXIT_STATUS} once that step is committed
     * @param out      where to print
     * @return what happened
     */
    public static Summary run(Settings settings, PrintStream out) {
        Tracker tracker = new Tracker(settings.crashAfter(), out);
        DatasourceConfig config = DatasourceConfig.builder()
                .url(settings.url())
                .schema(settings.schema()) // datasource_outputs beside the example's tables
                .observer(tracker)
                .build();
        try (BlockingDatasource ds = BlockingDatasource.create(config)) {
            Bank bank = new Bank(ds, settings.schema());
            bank.createTables();
            DBOS dbos = new DBOS(DBOSConfig.defaults("txstep-dbos-example")
                    .withDatabaseUrl(settings.systemDbUrl())
                    .withDbUser(settings.systemDbUser())
                    .withDbPassword(settings.systemDbPassword())
                    .withAppVersion(APP_VERSION)
                    .disableAdminServer());
            try {
                // Steps of this DBOS's workflows, on this datasource. Workflows are registered
                // before launch: launch recovers pending workflows, and needs their code.
                DbosTxSteps steps = DbosTxSteps.create(dbos, ds);
                Transfers transfers = dbos.registerProxy(Transfers.class, new TransfersImpl(steps, bank, tracker));
                out.println("DBOS workflow " + settings.workflowId() + " (system database " + settings.systemDbUrl()
                        + "):");
                dbos.launch();
                return demo(dbos, transfers, bank, tracker, settings.workflowId(), out);
            } finally {
                dbos.shutdown(); // before the datasource closes, so no workflow is left mid-step
            }
        }
    }

    private static Summary demo(DBOS dbos, Transfers transfers, Bank bank, Tracker tracker, String workflowId,
            PrintStream out) {
        Transfer transfer = new Transfer("alice", "bob", 250);
        Optional<WorkflowStatus> earlier = dbos.getWorkflowStatus(workflowId);
        WorkflowHandle<Receipt, RuntimeException> handle;
        if (earlier.isPresent()) {
            // An earlier run started it: if it was left pending, this DBOS's launch is recovering it.
            out.println("  (started by an earlier run, found " + earlier.get().status() + ": waiting for its result)");
            handle = dbos.retrieveWorkflow(workflowId);
        } else {
            handle = dbos.startWorkflow(() -> transfers.transfer(transfer), new StartWorkflowOptions(workflowId));
        }
        Receipt receipt = handle.getResult();
        out.println("  -> " + receipt);

        out.println("The same workflow id again:");
        int before = tracker.functionsCalled();
        Receipt again = dbos.startWorkflow(() -> transfers.transfer(transfer), new StartWorkflowOptions(workflowId))
                .getResult();
        int functionsAgain = tracker.functionsCalled() - before;
        out.println("  -> " + again + " (DBOS returned the recorded result; step functions called: "
                + functionsAgain + ")");

        bank.printTables(workflowId, out);
        List<String> dbosSteps = new ArrayList<>();
        StringJoiner lines = new StringJoiner("\n");
        for (StepInfo step : dbos.listWorkflowSteps(workflowId)) {
            dbosSteps.add(step.functionId() + ":" + step.functionName());
            lines.add("  function_id=" + step.functionId() + "  function_name=" + step.functionName()
                    + "  output=" + step.output());
        }
        out.println("DBOS's steps of " + workflowId + " (system database):\n" + lines);
        return new Summary(workflowId, receipt, tracker.steps(), again, functionsAgain,
                bank.recordedSteps(workflowId), dbosSteps);
    }

    /** The workflow's implementation: three txstep steps run as DBOS steps. */
    private static final class TransfersImpl implements Transfers {

        private final DbosTxSteps steps;
        private final Bank bank;
        private final Tracker tracker;

        TransfersImpl(DbosTxSteps steps, Bank bank, Tracker tracker) {
            this.steps = steps;
            this.bank = bank;
            this.tracker = tracker;
        }

        @Override
        @Workflow(name = "transfer")
        public Receipt transfer(Transfer t) {
            String workflowId = DBOS.workflowId();
            // Each runTxStep is a DBOS step (ids 0, 1, 2) whose transaction records its output in
            // datasource_outputs under (workflowId, DBOS's step id). SERIALIZABLE is txstep's default.
            long fromBalance = steps.runTxStep(DatasourceOptions.named("debit"),
                    tx -> tracker.ran(workflowId, "debit", () -> bank.debit(tx, t.from(), t.amountCents())));
            tracker.finished(workflowId, "debit", fromBalance);
            long toBalance = steps.runTxStep(DatasourceOptions.named("credit"),
                    tx -> tracker.ran(workflowId, "credit", () -> bank.credit(tx, t.to(), t.amountCents())));
            tracker.finished(workflowId, "credit", toBalance);
            long receiptId = steps.runTxStep(DatasourceOptions.named("receipt"),
                    tx -> tracker.ran(workflowId, "receipt", () -> bank.receipt(tx, workflowId, t)));
            tracker.finished(workflowId, "receipt", receiptId);
            return new Receipt(workflowId, fromBalance, toBalance, receiptId);
        }
    }

    /**
     * Tells how each step ended, from what this process saw: its function ran; txstep replayed it
     * (its observer heard {@link StepOutcome#REPLAYED}); or neither, so DBOS returned its own record
     * without calling txstep. Also halts the process for {@code --crash-after}.
     */
    private static final class Tracker implements StepObserver {

        private final String crashAfter;
        private final PrintStream out;
        private final Set<String> ran = ConcurrentHashMap.newKeySet();
        private final Set<String> replayedByTxstep = ConcurrentHashMap.newKeySet();
        private final List<String> steps = Collections.synchronizedList(new ArrayList<>());
        private final AtomicInteger functionsCalled = new AtomicInteger();

        Tracker(String crashAfter, PrintStream out) {
            this.crashAfter = crashAfter;
            this.out = out;
        }

        /** Runs a step's function, noting that it ran. */
        <T> T ran(String workflowId, String step, Supplier<T> function) {
            functionsCalled.incrementAndGet();
            T result = function.get();
            ran.add(workflowId + "/" + step);
            return result;
        }

        @Override
        public void stepFinished(StepEvent event) {
            if (event.key() == null) {
                return; // a plain transaction outside the workflow
            }
            if (event.outcome() == StepOutcome.REPLAYED) {
                replayedByTxstep.add(event.key().workflowId() + "/" + event.stepName());
            }
            if (event.outcome() == StepOutcome.EXECUTED && event.stepName().equals(crashAfter)) {
                // The step's transaction has committed; DBOS has not recorded the step yet.
                out.println("  CRASH: txstep committed step '" + crashAfter + "' " + event.key()
                        + "; halting before DBOS records it. Run again with --workflow-id "
                        + event.key().workflowId() + " to recover.");
                out.flush();
                Runtime.getRuntime().halt(CRASH_EXIT_STATUS);
            }
        }

        /** Prints and keeps how the step ended, on the workflow's thread. */
        void finished(String workflowId, String step, Object output) {
            String how = ran.remove(workflowId + "/" + step) ? "RAN"
                    : replayedByTxstep.remove(workflowId + "/" + step) ? "REPLAYED from txstep's record"
                    : "REPLAYED from DBOS's record";
            steps.add(step + " " + how);
            out.printf("  %-8s %-29s output: %s%n", step, how, output);
        }

        int functionsCalled() {
            return functionsCalled.get();
        }

        List<String> steps() {
            synchronized (steps) {
                return List.copyOf(steps);
            }
        }
    }

    /** The example's tables and the SQL of its steps (PostgreSQL). */
    private static final class Bank {

        private final BlockingDatasource ds;
        private final String schema;

        Bank(BlockingDatasource ds, String schema) {
            this.ds = ds;
            this.schema = schema;
        }

        /** Debits an account; its new balance. Fails, rolling back, if the balance would go negative. */
        long debit(BlockingTxSession tx, String account, long cents) {
            List<Long> balance = tx.query("UPDATE " + table("accounts") + " SET balance_cents = balance_cents - $1"
                    + " WHERE id = $2 AND balance_cents >= $1 RETURNING balance_cents",
                    (row, meta) -> row.get(0, Long.class), cents, account);
            if (balance.isEmpty()) {
                throw new IllegalStateException("insufficient funds in account " + account);
            }
            return balance.get(0);
        }

        /** Credits an account; its new balance. */
        long credit(BlockingTxSession tx, String account, long cents) {
            return tx.query("UPDATE " + table("accounts") + " SET balance_cents = balance_cents + $1 WHERE id = $2"
                    + " RETURNING balance_cents", (row, meta) -> row.get(0, Long.class), cents, account).get(0);
        }

        /** Writes the transfer's receipt; the id the database gave it. */
        long receipt(BlockingTxSession tx, String workflowId, Transfer t) {
            return tx.query("INSERT INTO " + table("transfers") + " (workflow_id, from_account, to_account,"
                    + " amount_cents) VALUES ($1, $2, $3, $4) RETURNING receipt_id",
                    (row, meta) -> row.get(0, Long.class), workflowId, t.from(), t.to(), t.amountCents()).get(0);
        }

        /**
         * Creates the tables and the two accounts if they are missing. A step outside any
         * workflow: a plain transaction, nothing recorded.
         */
        void createTables() {
            ds.runTxStep(new DatasourceOptions("createTables", IsolationLevel.READ_COMMITTED), tx -> {
                tx.execute("CREATE TABLE IF NOT EXISTS " + table("accounts") + " (id text PRIMARY KEY,"
                        + " balance_cents bigint NOT NULL)");
                // No unique key on workflow_id: a receipt written twice would be two rows.
                tx.execute("CREATE TABLE IF NOT EXISTS " + table("transfers") + " (receipt_id bigserial PRIMARY KEY,"
                        + " workflow_id text NOT NULL, from_account text NOT NULL, to_account text NOT NULL,"
                        + " amount_cents bigint NOT NULL)");
                return tx.execute("INSERT INTO " + table("accounts") + " VALUES ('alice', 100000), ('bob', 0)"
                        + " ON CONFLICT (id) DO NOTHING");
            });
        }

        /** Prints the accounts, the workflow's receipts and its recorded txstep steps. */
        void printTables(String workflowId, PrintStream out) {
            print(out, "accounts", "SELECT id, balance_cents FROM " + table("accounts") + " ORDER BY id");
            print(out, "transfers", "SELECT receipt_id, workflow_id, amount_cents FROM " + table("transfers")
                    + " WHERE workflow_id = $1", workflowId);
            print(out, "datasource_outputs", "SELECT workflow_id, step_id, step_name, output FROM "
                    + table("datasource_outputs") + " WHERE workflow_id = $1 ORDER BY step_id", workflowId);
        }

        /** The workflow's rows in {@code datasource_outputs}, as {@code "<step id>:<name>"}. */
        List<String> recordedSteps(String workflowId) {
            return read(tx -> tx.query("SELECT step_id, step_name FROM " + table("datasource_outputs")
                    + " WHERE workflow_id = $1 ORDER BY step_id",
                    (row, meta) -> row.get(0, Integer.class) + ":" + row.get(1, String.class), workflowId));
        }

        private void print(PrintStream out, String name, String sql, Object... params) {
            List<String> lines = read(tx -> tx.query(sql, (row, meta) -> {
                StringJoiner line = new StringJoiner("  ", "  ", "");
                for (int i = 0; i < meta.getColumnMetadatas().size(); i++) {
                    line.add(meta.getColumnMetadata(i).getName().toLowerCase(Locale.ROOT) + "=" + row.get(i));
                }
                return line.toString();
            }, params));
            out.println(table(name) + ":\n" + String.join("\n", lines));
        }

        /**
         * A read outside the workflow, at READ COMMITTED: reading {@code datasource_outputs} at
         * SERIALIZABLE (the step default) would take predicate locks that make running steps retry.
         */
        private <T> T read(Function<BlockingTxSession, T> query) {
            return ds.runTxStep(new DatasourceOptions("read", IsolationLevel.READ_COMMITTED), query);
        }

        private String table(String name) {
            return "\"" + schema + "\"." + name;
        }
    }
}
