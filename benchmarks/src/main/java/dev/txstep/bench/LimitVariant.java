package dev.txstep.bench;

import io.r2dbc.pool.ConnectionPool;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.R2dbcRollbackException;
import io.r2dbc.spi.Result;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.LongAdder;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.util.retry.Retry;
import reactor.util.retry.RetryBackoffSpec;

/**
 * The physical limit of a recorded step: the baseline's transaction ({@code BEGIN ISOLATION LEVEL
 * …}, UPDATE, INSERT ledger, exactly as {@link PlainR2dbcVariant}) plus the output row txstep would
 * record, sent in one {@code Batch} with the {@code COMMIT} — {@code INSERT … VALUES (<dollar-quoted
 * literals>); COMMIT}, so in the round trip of the {@code COMMIT} — and nothing else: no txstep code,
 * no workflow context, no serialization on the hot path. That was txstep's own message until it
 * began to prepare its insert on each pooled connection ({@code EXECUTE name(<literals>); COMMIT},
 * which the server need not parse and plan): the limit stays the literal insert, so txstep-first can
 * now pass it.
 *
 * <p>Why it exists: on a 2-core machine the server's work for the extra row shows in throughput, so
 * "txstep ÷ baseline" mixes what txstep could remove with what no client can. "txstep-first ÷
 * limit" is the part that is the library's.
 *
 * <p>The row matches txstep-first's: its own {@code datasource_outputs} (in
 * {@link BenchDatabase#LIMIT_SCHEMA}, created by txstep's migration, so same columns, primary key
 * and BRIN index), workflow ids of the same length and shape, a fresh one per workflow of
 * {@code stepsPerWorkflow} sequential operations with step ids 0, 1, …, step name {@code transfer},
 * the output txstep's serializer writes for the setting's size ({@link StepOutputs}), error NULL,
 * serialization {@code jackson}, {@code created_at} now in epoch milliseconds. Each literal gets a
 * random dollar-quote tag checked against the value, which any safe literal needs.
 *
 * <p>What it leaves out on purpose: txstep's read of the workflow's recorded step ids, which the
 * first step of each workflow execution pays (one more statement per workflow: at READ COMMITTED in
 * the {@code BEGIN}'s message, at SERIALIZABLE in a message of its own). With
 * {@code --steps-per-workflow 1} every step is a first step, so txstep-first ÷ limit then shows
 * that read's whole cost.
 *
 * <p>{@code limit-bound} is the same transaction with the output row bound instead: {@code INSERT …
 * VALUES ($1, …)} through the extended protocol (the driver parses it once per connection and caches
 * it), then {@code COMMIT} once the INSERT has answered: one round trip more than the literal batch
 * (r2dbc-postgresql would not write the COMMIT before the INSERT's answer anyway), and what txstep
 * sends for a long output. It answers one question: from which output size on does
 * a bound output (no literal for the client to build and scan, none for the server to parse) beat
 * the literal? It writes a table of its own ({@link BenchDatabase#LIMIT_BOUND_SCHEMA}) and runs
 * only when named.
 *
 * <p>{@code limit-read} is the limit plus the read it leaves out, sent as txstep sends it: the
 * statement txstep prepares for it ({@code SELECT step_id, …, created_at … WHERE workflow_id = $1},
 * prepared once on each of the pool's connections before the window) executed as {@code EXECUTE name(<literals>)} in
 * the message of the first step's {@code BEGIN} — inside the transaction at READ COMMITTED, in a
 * {@code READ ONLY} READ COMMITTED transaction of its own committed before the step's
 * {@code BEGIN ISOLATION LEVEL SERIALIZABLE} at SERIALIZABLE. It splits txstep-first ÷ limit into
 * what the read costs any client (limit-read ÷ limit) and what is the library's (txstep-first ÷
 * limit-read). Its own table ({@link BenchDatabase#LIMIT_READ_SCHEMA}); it runs only when named.
 */
final class LimitVariant extends InProcessVariant {

    /** As the baseline's (txstep's default policy): 10 attempts, 10 ms doubling to 2 s, jitter 0.5. */
    private static final RetryBackoffSpec RETRY = Retry.backoff(9, Duration.ofMillis(10))
            .maxBackoff(Duration.ofSeconds(2))
            .jitter(0.5)
            .filter(R2dbcRollbackException.class::isInstance);

    private static final String COLUMNS = ".datasource_outputs"
            + " (workflow_id, step_id, step_name, output, error, serialization, created_at) VALUES (";
    private static final String BOUND_INSERT = "INSERT INTO \"" + BenchDatabase.LIMIT_BOUND_SCHEMA + "\"" + COLUMNS
            + "$1, $2, $3, $4, NULL, $5, $6)";
    /** txstep's load of a workflow's recorded ids, with its parameters in txstep's order. */
    private static final String PREPARE_LOAD = "PREPARE bench_limit_load (text, integer) AS SELECT step_id,"
            + " CASE WHEN step_id = $2 THEN step_name END, CASE WHEN step_id = $2 THEN output END,"
            + " CASE WHEN step_id = $2 THEN error END, CASE WHEN step_id = $2 THEN serialization END, created_at"
            + " FROM \"" + BenchDatabase.LIMIT_READ_SCHEMA + "\".datasource_outputs WHERE workflow_id = $1";

    /** How the variant writes the output row, and whether it reads the recorded ids first. */
    enum Kind {
        /** {@code limit}: the literal output row with the COMMIT. */
        LITERAL("limit", BenchDatabase.LIMIT_SCHEMA),
        /** {@code limit-bound}: a bound output row, then the COMMIT. */
        BOUND("limit-bound", BenchDatabase.LIMIT_BOUND_SCHEMA),
        /** {@code limit-read}: the literal row with the COMMIT, and the first step's read of recorded ids. */
        READ("limit-read", BenchDatabase.LIMIT_READ_SCHEMA);

        private final String variantName;
        private final String schema;
        private final String insertPrefix;

        Kind(String variantName, String schema) {
            this.variantName = variantName;
            this.schema = schema;
            this.insertPrefix = "INSERT INTO \"" + schema + "\"" + COLUMNS;
        }

        /** The name the harness knows the variant by. */
        String variantName() {
            return variantName;
        }

        /** Where the variant's output table is ({@link TxStepDatasources#install(Postgres, String)}). */
        String schema() {
            return schema;
        }
    }

    private final Postgres postgres;
    private final int stepsPerWorkflow;
    private final Kind kind;
    private final WorkflowIds ids;

    /**
     * @param postgres         the database; {@link Kind#schema()} must hold the output table
     *                         ({@link TxStepDatasources#install(Postgres, String)})
     * @param stepsPerWorkflow operations per workflow id, as txstep-first's steps per workflow
     * @param runId            the run's id, for workflow ids no other run used
     * @param kind             which of the limit's variants
     */
    LimitVariant(Postgres postgres, int stepsPerWorkflow, String runId, Kind kind) {
        this.postgres = postgres;
        this.stepsPerWorkflow = stepsPerWorkflow;
        this.kind = kind;
        // "txstep-limit-" is as long as "txstep-first-": the key the index compares is as long as txstep's.
        this.ids = new WorkflowIds(runId, "txstep-limit");
    }

    @Override
    public String name() {
        return kind.variantName();
    }

    @Override
    public String description() {
        return "the physical limit: the baseline's transaction plus txstep's output row, sent as"
                + (kind == Kind.BOUND ? " a bound INSERT ($1, ...), then COMMIT" : " INSERT (dollar-quoted literals); COMMIT in one Batch")
                + ", no txstep code; workflows of " + stepsPerWorkflow + " sequential transactions under fresh ids, "
                + (kind == Kind.READ ? "the first one reading the recorded ids as txstep does" : "no recorded-ids read");
    }

    @Override
    Load open(Setting setting, Recorder recorder) {
        String output = StepOutputs.of(setting.outputBytes()).serialized();
        ConnectionPool pool = kind == Kind.READ
                ? R2dbcPools.open(postgres, setting.poolSize(), LimitVariant::prepareLoad)
                : R2dbcPools.open(postgres, setting.poolSize());
        LongAdder retries = new LongAdder();
        ReactiveWorkers workers = new ReactiveWorkers(setting.concurrency(), () -> {
            String workflowId = ids.next();
            return Flux.range(0, stepsPerWorkflow)
                    .concatMap(stepId -> Mono.defer(() -> {
                        long started = System.nanoTime();
                        return transfer(pool, setting.isolation(), workflowId, stepId, output, kind)
                                .retryWhen(RETRY.doBeforeRetry(signal -> retries.increment()))
                                .doOnSuccess(ignored -> recorder.completed(System.nanoTime() - started));
                    }))
                    .then();
        }, recorder);
        return Load.of(workers, () -> {
            long n = retries.sum();
            return n == 0 ? null : n + " retries (warm-up included)";
        }, () -> pool.disposeLater().block());
    }

    private static Mono<Void> transfer(ConnectionPool pool, Isolation isolation, String workflowId, int stepId,
            String output, Kind kind) {
        int account = Transfers.randomAccount();
        long amount = Transfers.randomAmount();
        return Mono.usingWhen(pool.create(),
                connection -> (kind == Kind.READ && stepId == 0
                                ? readThenBegin(connection, isolation, workflowId, stepId)
                                : Mono.from(connection.beginTransaction(isolation.r2dbc())))
                        .then(rowsUpdated(connection.createStatement(Transfers.UPDATE)
                                .bind(0, amount).bind(1, account).execute()))
                        .then(rowsUpdated(connection.createStatement(Transfers.INSERT)
                                .bind(0, account).bind(1, amount).execute()))
                        .then(kind == Kind.BOUND ? boundInsertThenCommit(connection, workflowId, stepId, output)
                                : Flux.from(connection.createBatch()
                                                .add(outputInsert(kind, workflowId, stepId, output))
                                                .add("COMMIT")
                                                .execute())
                                        .concatMap(Result::getRowsUpdated)
                                        .then()),
                Connection::close,
                (connection, error) -> Mono.from(connection.rollbackTransaction())
                        .onErrorResume(ignored -> Mono.empty())
                        .then(Mono.from(connection.close())),
                connection -> Mono.from(connection.rollbackTransaction())
                        .onErrorResume(ignored -> Mono.empty())
                        .then(Mono.from(connection.close())));
    }

    /**
     * Prepares the read on a new pooled connection, as txstep does on each of its connections: in a
     * {@code DO} block, so that the driver does not take the statement's {@code $1} for a parameter
     * of its own.
     */
    private static Publisher<Void> prepareLoad(Connection connection) {
        String prepare = "DO $prepare$BEGIN EXECUTE '" + PREPARE_LOAD + "'; END$prepare$";
        return Flux.from(connection.createStatement(prepare).execute()).concatMap(Result::getRowsUpdated).then();
    }

    /**
     * The first step's message as txstep sends it: the read of the workflow's recorded ids with the
     * step's {@code BEGIN} (at SERIALIZABLE, in a READ ONLY READ COMMITTED transaction of its own,
     * committed first); every row read as txstep reads it (none, as the workflows are fresh).
     */
    private static Mono<Void> readThenBegin(Connection connection, Isolation isolation, String workflowId, int stepId) {
        String read = "EXECUTE bench_limit_load(" + dollarQuoted(workflowId) + ", " + stepId + ")";
        String message = isolation == Isolation.SERIALIZABLE
                ? "BEGIN ISOLATION LEVEL READ COMMITTED READ ONLY; " + read + "; COMMIT; BEGIN ISOLATION LEVEL SERIALIZABLE"
                : "BEGIN ISOLATION LEVEL READ COMMITTED; " + read;
        return Flux.from(connection.createStatement(message).execute())
                .concatMap(result -> result.map((row, meta) -> row.get(0, Integer.class)))
                .then();
    }

    /** The bound INSERT, then the COMMIT once the INSERT has answered. */
    private static Mono<Void> boundInsertThenCommit(Connection connection, String workflowId, int stepId, String output) {
        return rowsUpdated(connection.createStatement(BOUND_INSERT)
                        .bind(0, workflowId).bind(1, stepId).bind(2, "transfer").bind(3, output).bind(4, "jackson")
                        .bind(5, System.currentTimeMillis())
                        .execute())
                .then(Mono.from(connection.commitTransaction()));
    }

    /** The output row's INSERT, built in one buffer sized for it. */
    static String outputInsert(Kind kind, String workflowId, int stepId, String output) {
        return new StringBuilder(kind.insertPrefix.length() + 160 + output.length())
                .append(kind.insertPrefix)
                .append(dollarQuoted(workflowId)).append(", ")
                .append(stepId).append(", ")
                .append(dollarQuoted("transfer")).append(", ")
                .append(dollarQuoted(output)).append(", NULL, ")
                .append(dollarQuoted("jackson")).append(", ")
                .append(System.currentTimeMillis()).append(')')
                .toString();
    }

    /** {@code $tag$value$tag$} with a random tag that the value does not contain. */
    static String dollarQuoted(String value) {
        while (true) {
            String tag = "$q" + Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 1) + "$";
            if (!value.contains(tag)) {
                return tag + value + tag;
            }
        }
    }

    private static Mono<Long> rowsUpdated(Publisher<? extends Result> results) {
        return Mono.from(results).flatMap(result -> Mono.from(result.getRowsUpdated()));
    }
}
