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
 */
final class LimitVariant extends InProcessVariant {

    /** As the baseline's (txstep's default policy): 10 attempts, 10 ms doubling to 2 s, jitter 0.5. */
    private static final RetryBackoffSpec RETRY = Retry.backoff(9, Duration.ofMillis(10))
            .maxBackoff(Duration.ofSeconds(2))
            .jitter(0.5)
            .filter(R2dbcRollbackException.class::isInstance);

    private static final String COLUMNS = ".datasource_outputs"
            + " (workflow_id, step_id, step_name, output, error, serialization, created_at) VALUES (";
    private static final String INSERT_PREFIX = "INSERT INTO \"" + BenchDatabase.LIMIT_SCHEMA + "\"" + COLUMNS;
    private static final String BOUND_INSERT = "INSERT INTO \"" + BenchDatabase.LIMIT_BOUND_SCHEMA + "\"" + COLUMNS
            + "$1, $2, $3, $4, NULL, $5, $6)";

    private final Postgres postgres;
    private final int stepsPerWorkflow;
    private final boolean bound;
    private final WorkflowIds ids;

    /**
     * @param postgres         the database; {@link BenchDatabase#LIMIT_SCHEMA} (or, bound,
     *                         {@link BenchDatabase#LIMIT_BOUND_SCHEMA}) must hold the output table
     *                         ({@link TxStepDatasources#install(Postgres, String)})
     * @param stepsPerWorkflow operations per workflow id, as txstep-first's steps per workflow
     * @param runId            the run's id, for workflow ids no other run used
     * @param bound            whether the output row is bound ({@code limit-bound}) or literal ({@code limit})
     */
    LimitVariant(Postgres postgres, int stepsPerWorkflow, String runId, boolean bound) {
        this.postgres = postgres;
        this.stepsPerWorkflow = stepsPerWorkflow;
        this.bound = bound;
        // "txstep-limit-" is as long as "txstep-first-": the key the index compares is as long as txstep's.
        this.ids = new WorkflowIds(runId, "txstep-limit");
    }

    @Override
    public String name() {
        return bound ? "limit-bound" : "limit";
    }

    @Override
    public String description() {
        return "the physical limit: the baseline's transaction plus txstep's output row, sent as"
                + (bound ? " a bound INSERT ($1, ...), then COMMIT" : " INSERT (dollar-quoted literals); COMMIT in one Batch")
                + ", no txstep code; workflows of "
                + stepsPerWorkflow + " sequential transactions under fresh ids, no recorded-ids read";
    }

    @Override
    Load open(Setting setting, Recorder recorder) {
        String output = StepOutputs.of(setting.outputBytes()).serialized();
        ConnectionPool pool = R2dbcPools.open(postgres, setting.poolSize());
        LongAdder retries = new LongAdder();
        ReactiveWorkers workers = new ReactiveWorkers(setting.concurrency(), () -> {
            String workflowId = ids.next();
            return Flux.range(0, stepsPerWorkflow)
                    .concatMap(stepId -> Mono.defer(() -> {
                        long started = System.nanoTime();
                        return transfer(pool, setting.isolation(), workflowId, stepId, output, bound)
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
            String output, boolean bound) {
        int account = Transfers.randomAccount();
        long amount = Transfers.randomAmount();
        return Mono.usingWhen(pool.create(),
                connection -> Mono.from(connection.beginTransaction(isolation.r2dbc()))
                        .then(rowsUpdated(connection.createStatement(Transfers.UPDATE)
                                .bind(0, amount).bind(1, account).execute()))
                        .then(rowsUpdated(connection.createStatement(Transfers.INSERT)
                                .bind(0, account).bind(1, amount).execute()))
                        .then(bound ? boundInsertThenCommit(connection, workflowId, stepId, output)
                                : Flux.from(connection.createBatch()
                                                .add(outputInsert(workflowId, stepId, output))
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

    /** The bound INSERT, then the COMMIT once the INSERT has answered. */
    private static Mono<Void> boundInsertThenCommit(Connection connection, String workflowId, int stepId, String output) {
        return rowsUpdated(connection.createStatement(BOUND_INSERT)
                        .bind(0, workflowId).bind(1, stepId).bind(2, "transfer").bind(3, output).bind(4, "jackson")
                        .bind(5, System.currentTimeMillis())
                        .execute())
                .then(Mono.from(connection.commitTransaction()));
    }

    /** The output row's INSERT, built in one buffer sized for it. */
    static String outputInsert(String workflowId, int stepId, String output) {
        return new StringBuilder(INSERT_PREFIX.length() + 160 + output.length())
                .append(INSERT_PREFIX)
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
