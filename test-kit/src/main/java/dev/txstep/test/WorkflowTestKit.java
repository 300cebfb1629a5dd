package dev.txstep.test;

import dev.txstep.AsyncDatasource;
import dev.txstep.DatasourceConfig;
import dev.txstep.RecordedStepException;
import dev.txstep.StepKey;
import dev.txstep.observe.StepEvent;
import dev.txstep.observe.StepObserver;
import dev.txstep.observe.StepOutcome;
import dev.txstep.reactor.Workflow;
import io.r2dbc.spi.ConnectionFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Queue;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.BiPredicate;
import java.util.function.Consumer;
import java.util.function.Function;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Schedulers;

/**
 * Puts one of your workflows through the faults exactly-once must survive, on your database, and
 * checks that it did.
 *
 * <p>Given a workflow — an id and a body that returns a {@code Mono} — {@link #run()} runs it in
 * these scenarios, each under its own workflow id ({@code <id>/<scenario>}), each after your
 * {@linkplain #setUp set-up}:
 * <ol>
 *   <li>{@code reference}: once, uninterrupted. Its outcome (value or error) is the reference, and
 *       the recorded steps it ran (ids and names) are the workflow's <em>steps</em>.</li>
 *   <li>{@code interrupted-after-k}, for each step {@code k}: the run is cancelled right after step
 *       {@code k} commits, so nothing after it runs (a process dying there); then the workflow is
 *       run again to completion.</li>
 *   <li>{@code commit-ack-lost-k}, for each step {@code k}: the database commits step {@code k}
 *       but the answer is lost (the connection reports SQLSTATE 08006); txstep retries, finds its
 *       own row and goes on; then the workflow is run again.</li>
 *   <li>{@code duplicates-n}: {@code n} executions of the same workflow id at once.</li>
 * </ol>
 * After each scenario it checks that every run that completed ended with the reference's outcome
 * (by {@link #sameResult}; errors compare by type and message, a replayed
 * {@link RecordedStepException} as the error it records), that each step's function committed
 * exactly once in the scenario and no other recorded step ran, and then calls your
 * {@linkplain #afterEachScenario checks} — your row counts are what prove that the effects
 * happened once. All scenarios run; the failures are reported together, each with its scenario
 * and step key, in a {@link WorkflowTestKitFailure}.
 *
 * <pre>{@code
 * WorkflowTestKit.forWorkflow("transfer", ds -> new Bank(ds).transfer("alice", "bob", 10))
 *         .database(connectionFactory, config -> config.jdbcUrl(jdbcUrl).schema("kit"))
 *         .setUp(ds -> new Bank(ds).reset(Map.of("alice", 100L, "bob", 0L)))
 *         .afterEachScenario((scenario, ds) -> assertEquals(90L, new Bank(ds).balance("alice").block()))
 *         .run();
 * }</pre>
 *
 * <p><b>What it needs of the workflow.</b> The body must be deterministic in its steps (the same
 * steps, in the same order, on every run — txstep's own rule) and, for the lost acknowledgement to
 * hit step {@code k}, must commit its recorded steps one after another (a {@code then} or
 * {@code concatMap} chain); with steps committing concurrently the fault may land on another step,
 * which the kit then names in the scenario. Read-only steps and steps outside a workflow are not
 * recorded, so they are neither counted nor faulted. The kit wraps your connection factory to
 * inject the lost acknowledgement and creates its own {@link AsyncDatasource} over it, with its own
 * {@link StepObserver}: do not set {@code url} or {@code observer} in the settings.
 *
 * <p>Not thread-safe: configure it, then call {@link #run()} from one thread (a test method). It
 * blocks; do not call it on an event-loop thread.
 *
 * @param <T> the workflow's result type
 */
public final class WorkflowTestKit<T> {

    private final String workflowId;
    private final Function<AsyncDatasource, Mono<T>> body;
    private ConnectionFactory connectionFactory;
    private Consumer<DatasourceConfig.Builder> settings = config -> {
    };
    private Function<AsyncDatasource, ? extends Publisher<?>> setUp = ds -> Mono.empty();
    private BiPredicate<? super T, ? super T> sameResult = Objects::equals;
    private ScenarioCheck check = (scenario, ds) -> {
    };
    private int duplicates = 4;
    private Duration timeout = Duration.ofMinutes(1);

    private WorkflowTestKit(String workflowId, Function<AsyncDatasource, Mono<T>> body) {
        this.workflowId = workflowId;
        this.body = body;
    }

    /**
     * Starts describing the workflow to test.
     *
     * @param workflowId the workflow's id; each scenario runs under {@code workflowId + "/" + name}
     * @param body       builds one execution of the workflow's body on the kit's datasource; called
     *                   once per execution, and subscribed inside {@code Workflow.run}
     * @param <T>        the workflow's result type
     * @return the kit, to configure and {@link #run()}
     * @throws IllegalArgumentException if the id is null or blank, or the body is null
     */
    public static <T> WorkflowTestKit<T> forWorkflow(String workflowId, Function<AsyncDatasource, Mono<T>> body) {
        if (workflowId == null || workflowId.isBlank()) {
            throw new IllegalArgumentException("workflowId must not be null or blank");
        }
        return new WorkflowTestKit<>(workflowId, Objects.requireNonNull(body, "body"));
    }

    /**
     * The database to run on (required): your connection factory — preferably a pool — and any
     * other datasource settings, as for {@link DatasourceConfig.Builder}. The kit adds its
     * fault-injecting wrapper of {@code factory} and its observer, and closes its datasource at
     * the end of {@link #run()}; your factory is not closed.
     *
     * @param factory  the connection factory (PostgreSQL, H2 or MariaDB)
     * @param settings sets the rest, e.g. {@code config -> config.jdbcUrl(jdbcUrl).schema("kit")}
     *                 (a connection factory needs a JDBC URL for the migration, or {@code migrate(false)})
     * @return this kit
     * @throws NullPointerException if either is null
     */
    public WorkflowTestKit<T> database(ConnectionFactory factory, Consumer<DatasourceConfig.Builder> settings) {
        this.connectionFactory = Objects.requireNonNull(factory, "factory");
        this.settings = Objects.requireNonNull(settings, "settings");
        return this;
    }

    /**
     * Brings the tables to the same starting state before each scenario (create, truncate, open
     * the accounts...). Runs outside any workflow. Default: nothing.
     *
     * @param setUp returns a publisher that does the set-up; the kit waits for it to complete
     * @return this kit
     * @throws NullPointerException if null
     */
    public WorkflowTestKit<T> setUp(Function<AsyncDatasource, ? extends Publisher<?>> setUp) {
        this.setUp = Objects.requireNonNull(setUp, "setUp");
        return this;
    }

    /**
     * When two results count as the same outcome. Default: {@link Objects#equals}. Results made of
     * recorded step outputs are equal in every run of one scenario; between scenarios (different
     * workflow ids) values a step generates afresh — ids, timestamps — differ, so compare what must
     * not.
     *
     * @param equivalence true when two non-null results are the same outcome
     * @return this kit
     * @throws NullPointerException if null
     */
    public WorkflowTestKit<T> sameResult(BiPredicate<? super T, ? super T> equivalence) {
        this.sameResult = Objects.requireNonNull(equivalence, "equivalence");
        return this;
    }

    /**
     * Compares results by what {@code projection} extracts, with {@link Objects#equals}.
     *
     * @param projection e.g. {@code t -> List.of(t.amount(), t.fromBalance(), t.toBalance())}
     * @return this kit
     * @throws NullPointerException if null
     */
    public WorkflowTestKit<T> sameResultBy(Function<? super T, ?> projection) {
        Objects.requireNonNull(projection, "projection");
        return sameResult((a, b) -> Objects.equals(projection.apply(a), projection.apply(b)));
    }

    /**
     * Your assertions after each scenario, typically row counts. Default: none.
     *
     * @param check called after every scenario, on the calling thread
     * @return this kit
     * @throws NullPointerException if null
     */
    public WorkflowTestKit<T> afterEachScenario(ScenarioCheck check) {
        this.check = Objects.requireNonNull(check, "check");
        return this;
    }

    /**
     * How many concurrent executions the duplicates scenario starts. Default 4.
     *
     * @param executions 2 or more
     * @return this kit
     * @throws IllegalArgumentException if less than 2
     */
    public WorkflowTestKit<T> duplicates(int executions) {
        if (executions < 2) {
            throw new IllegalArgumentException("duplicates must be 2 or more, was " + executions);
        }
        this.duplicates = executions;
        return this;
    }

    /**
     * The longest a single run (or set-up) may take before the scenario fails. Default 1 minute.
     *
     * @param timeout positive
     * @return this kit
     * @throws IllegalArgumentException if not positive
     */
    public WorkflowTestKit<T> timeout(Duration timeout) {
        if (timeout == null || timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout must be positive, was " + timeout);
        }
        this.timeout = timeout;
        return this;
    }

    /**
     * Runs every scenario and checks it.
     *
     * @return what ran: the workflow's steps and the scenarios, all of which passed
     * @throws WorkflowTestKitFailure if any scenario failed (each failure names its scenario and
     *                                step key), or the reference run recorded no step
     * @throws IllegalStateException  if {@link #database} was not called
     * @throws RuntimeException       from creating the datasource (bad settings, database down)
     */
    public Report run() {
        if (connectionFactory == null) {
            throw new IllegalStateException("call database(factory, settings) before run()");
        }
        FaultInjectingConnectionFactory faults = new FaultInjectingConnectionFactory(connectionFactory);
        Recorder recorder = new Recorder();
        DatasourceConfig.Builder config = DatasourceConfig.builder();
        settings.accept(config);
        AsyncDatasource ds = AsyncDatasource.create(config.connectionFactory(faults).observer(recorder).build())
                .block(timeout);
        try {
            return new Run(ds, faults, recorder).all();
        } finally {
            ds.close().block(timeout);
        }
    }

    /**
     * What {@link #run()} did.
     *
     * @param workflowId the workflow's id
     * @param steps      the recorded steps of the reference run: step id to step name, in order
     * @param scenarios  the scenarios that ran, in order; all passed
     */
    public record Report(String workflowId, Map<Integer, String> steps, List<Scenario> scenarios) {

        /**
         * Copies the collections.
         *
         * @param workflowId the workflow's id
         * @param steps      step id to name
         * @param scenarios  the scenarios
         */
        public Report {
            steps = Collections.unmodifiableMap(new TreeMap<>(steps));
            scenarios = List.copyOf(scenarios);
        }
    }

    /** One run of {@link #run()}: the datasource and what the scenarios found. */
    private final class Run {
        private final AsyncDatasource ds;
        private final FaultInjectingConnectionFactory faults;
        private final Recorder recorder;
        private final List<String> failures = new ArrayList<>();
        private final List<Throwable> causes = new ArrayList<>();
        private final List<Scenario> scenarios = new ArrayList<>();

        Run(AsyncDatasource ds, FaultInjectingConnectionFactory faults, Recorder recorder) {
            this.ds = ds;
            this.faults = faults;
            this.recorder = recorder;
        }

        Report all() {
            String refId = scenarioId(ScenarioKind.REFERENCE, -1, 1);
            prepare(refId);
            Outcome<T> reference = execute(refId);
            Map<Integer, String> steps = new TreeMap<>();
            for (StepEvent e : recorder.take()) {
                if (e.key() != null && e.key().workflowId().equals(refId) && e.outcome() == StepOutcome.EXECUTED) {
                    steps.put(e.key().stepId(), e.stepName());
                }
            }
            Scenario ref = new Scenario(ScenarioKind.REFERENCE, refId, null, null, 1);
            scenarios.add(ref);
            if (reference.timedOut()) {
                fail(ref, "the reference run did not finish within " + timeout);
            }
            if (steps.isEmpty()) {
                fail(ref, "the workflow recorded no step (its outcome: " + reference + "): are its steps"
                        + " subscribed inside the body the kit runs, on the kit's datasource?");
                throw failure();
            }
            userCheck(ref);

            int position = 0;
            for (Map.Entry<Integer, String> step : steps.entrySet()) {
                position++;
                interrupted(step.getKey(), step.getValue(), steps, reference);
                ackLost(step.getKey(), step.getValue(), position, steps, reference);
            }
            duplicates(steps, reference);
            if (!failures.isEmpty()) {
                throw failure();
            }
            return new Report(workflowId, steps, scenarios);
        }

        private void interrupted(int stepId, String stepName, Map<Integer, String> steps, Outcome<T> reference) {
            String id = scenarioId(ScenarioKind.INTERRUPTED_AFTER_STEP, stepId, 2);
            StepKey key = new StepKey(id, stepId);
            Scenario scenario = new Scenario(ScenarioKind.INTERRUPTED_AFTER_STEP, id, key, stepName, 2);
            scenarios.add(scenario);
            if (!prepare(scenario)) {
                return;
            }
            Sinks.One<T> interrupt = Sinks.one();
            recorder.interruptAfter(key, interrupt);
            Outcome<T> first = Outcome.of(Mono.firstWithSignal(interrupt.asMono(), Workflow.run(id, body.apply(ds))),
                    timeout);
            recorder.interruptAfter(null, null);
            if (!(first.error() instanceof Interrupted)) {
                fail(scenario, "the run was to be interrupted after step " + key + " committed, but it ended first"
                        + " with " + first);
                recorder.take();
                return;
            }
            Outcome<T> second = execute(id);
            compare(scenario, "the run after the interruption", second, reference);
            countCommits(scenario, recorder.take(), steps, null);
            userCheck(scenario);
        }

        private void ackLost(int stepId, String stepName, int position, Map<Integer, String> steps,
                Outcome<T> reference) {
            String id = scenarioId(ScenarioKind.COMMIT_ACKNOWLEDGEMENT_LOST, stepId, 2);
            StepKey key = new StepKey(id, stepId);
            Scenario scenario = new Scenario(ScenarioKind.COMMIT_ACKNOWLEDGEMENT_LOST, id, key, stepName, 2);
            scenarios.add(scenario);
            if (!prepare(scenario)) {
                return;
            }
            faults.armLostAcknowledgement(position);
            Outcome<T> first = execute(id);
            int lost = faults.disarm();
            List<StepEvent> firstEvents = recorder.take();
            if (lost != 1) {
                fail(scenario, "the kit could not lose the acknowledgement of step " + key + "'s commit: "
                        + (lost == 0 ? "the run made fewer step commits than the reference" : lost + " were lost"));
                return;
            }
            // txstep resolves a lost acknowledgement by reading the step's own row: on a retry, where
            // the failure is a lost connection (the step is then reported as replayed after more than
            // one attempt, which names the step the fault hit), or in the same attempt, where the
            // database has no connection to lose (H2) and the outcome is merely unknown (the step is
            // then reported as executed, once).
            StepKey hit = firstEvents.stream()
                    .filter(e -> e.key() != null && e.key().workflowId().equals(id)
                            && e.outcome() == StepOutcome.REPLAYED && e.attempts() > 1)
                    .map(StepEvent::key).findFirst().orElse(null);
            boolean resolvedInPlace = firstEvents.stream().anyMatch(e -> key.equals(e.key())
                    && e.outcome() == StepOutcome.EXECUTED && e.attempts() == 1);
            if (hit == null && !resolvedInPlace) {
                fail(scenario, "the acknowledgement of a step commit was lost, but no step recovered its own"
                        + " recorded output afterwards (outcome of the run: " + first + ")");
            } else if (hit != null && !hit.equals(key)) {
                fail(scenario, "the lost acknowledgement hit step " + hit + ", not " + key
                        + ": the workflow's steps do not commit one after another in step order");
            }
            compare(scenario, "the run that lost the acknowledgement", first, reference);
            Outcome<T> second = execute(id);
            compare(scenario, "the run after it", second, reference);
            List<StepEvent> events = new ArrayList<>(firstEvents);
            events.addAll(recorder.take());
            countCommits(scenario, events, steps, hit);
            userCheck(scenario);
        }

        private void duplicates(Map<Integer, String> steps, Outcome<T> reference) {
            String id = scenarioId(ScenarioKind.CONCURRENT_DUPLICATES, -1, duplicates);
            Scenario scenario = new Scenario(ScenarioKind.CONCURRENT_DUPLICATES, id, null, null, duplicates);
            scenarios.add(scenario);
            if (!prepare(scenario)) {
                return;
            }
            List<Outcome<T>> outcomes = Flux.range(0, duplicates)
                    .flatMap(i -> Mono.defer(() -> Workflow.run(id, body.apply(ds)))
                            .subscribeOn(Schedulers.boundedElastic())
                            .map(Outcome::<T>value)
                            .switchIfEmpty(Mono.fromSupplier(Outcome::<T>empty))
                            .onErrorResume(e -> Mono.just(Outcome.failed(e))), duplicates)
                    .collectList()
                    .block(timeout.multipliedBy(2));
            for (int i = 0; i < outcomes.size(); i++) {
                compare(scenario, "execution " + (i + 1) + " of " + duplicates, outcomes.get(i), reference);
            }
            countCommits(scenario, recorder.take(), steps, null);
            userCheck(scenario);
        }

        /** One execution of the workflow under {@code id}, to its end. */
        private Outcome<T> execute(String id) {
            return Outcome.of(Mono.defer(() -> Workflow.run(id, body.apply(ds))), timeout);
        }

        private boolean prepare(Scenario scenario) {
            try {
                prepare(scenario.workflowId());
                return true;
            } catch (RuntimeException e) {
                fail(scenario, "the set-up failed: " + e, e);
                return false;
            }
        }

        private void prepare(String id) {
            Mono.from(setUp.apply(ds)).then().block(timeout);
            ds.pruneWorkflows(List.of(id)).block(timeout);
            recorder.take();
        }

        /** Each reference step committed exactly once in the scenario; no other recorded step ran. */
        private void countCommits(Scenario scenario, List<StepEvent> events, Map<Integer, String> steps,
                StepKey lostAcknowledgement) {
            Map<Integer, Integer> commits = new TreeMap<>();
            Map<Integer, String> names = new TreeMap<>();
            for (StepEvent e : events) {
                if (e.key() == null || !e.key().workflowId().equals(scenario.workflowId())) {
                    continue;
                }
                names.putIfAbsent(e.key().stepId(), e.stepName());
                commits.merge(e.key().stepId(), e.outcome() == StepOutcome.EXECUTED ? 1 : 0, Integer::sum);
            }
            if (lostAcknowledgement != null) {
                commits.merge(lostAcknowledgement.stepId(), 1, Integer::sum);
            }
            for (Map.Entry<Integer, String> step : steps.entrySet()) {
                int n = commits.getOrDefault(step.getKey(), 0);
                if (n != 1) {
                    fail(scenario, "step " + new StepKey(scenario.workflowId(), step.getKey()) + " '" + step.getValue()
                            + "' committed " + n + " times (expected once)");
                }
            }
            for (Map.Entry<Integer, String> seen : names.entrySet()) {
                String expected = steps.get(seen.getKey());
                if (expected == null) {
                    fail(scenario, "step " + new StepKey(scenario.workflowId(), seen.getKey()) + " '" + seen.getValue()
                            + "' ran, but the reference run had no step " + seen.getKey());
                } else if (!expected.equals(seen.getValue())) {
                    fail(scenario, "step " + new StepKey(scenario.workflowId(), seen.getKey()) + " ran as '"
                            + seen.getValue() + "', in the reference run as '" + expected + "'");
                }
            }
        }

        private void compare(Scenario scenario, String which, Outcome<T> actual, Outcome<T> reference) {
            if (!actual.sameAs(reference, sameResult)) {
                fail(scenario, which + " ended with " + actual + "; the reference run with " + reference,
                        actual.error());
            }
        }

        private void userCheck(Scenario scenario) {
            try {
                check.check(scenario, ds);
            } catch (Exception | AssertionError e) {
                fail(scenario, "afterEachScenario failed: " + e, e);
            }
        }

        private void fail(Scenario scenario, String message) {
            fail(scenario, message, null);
        }

        private void fail(Scenario scenario, String message, Throwable cause) {
            failures.add(scenario + ": " + message);
            if (cause != null && !(cause instanceof Interrupted)) {
                causes.add(cause);
            }
        }

        private WorkflowTestKitFailure failure() {
            WorkflowTestKitFailure failure = new WorkflowTestKitFailure(workflowId, failures);
            causes.forEach(failure::addSuppressed);
            return failure;
        }

        private String scenarioId(ScenarioKind kind, int stepId, int executions) {
            return workflowId + "/" + Scenario.name(kind, stepId, executions);
        }
    }

    /** Hears the steps of the kit's datasource; interrupts a run after a chosen step. */
    private static final class Recorder implements StepObserver {
        private final Queue<StepEvent> events = new ConcurrentLinkedQueue<>();
        private volatile StepKey interruptAfter;
        private volatile Sinks.One<?> interrupt;

        void interruptAfter(StepKey key, Sinks.One<?> sink) {
            this.interrupt = sink;
            this.interruptAfter = key;
        }

        /** The events heard since the last call. */
        List<StepEvent> take() {
            List<StepEvent> taken = new ArrayList<>();
            StepEvent e;
            while ((e = events.poll()) != null) {
                taken.add(e);
            }
            return taken;
        }

        @Override
        public void stepFinished(StepEvent event) {
            events.add(event);
            StepKey target = interruptAfter;
            if (target != null && target.equals(event.key()) && event.outcome() == StepOutcome.EXECUTED) {
                Sinks.One<?> sink = interrupt;
                interruptAfter = null;
                if (sink != null) {
                    // Called as the step completes, before its value reaches the workflow's next
                    // operator: cancelling now means no later step starts.
                    sink.tryEmitError(new Interrupted(target));
                }
            }
        }
    }

    /** The error that ends an interrupted run (the kit's own, never the workflow's outcome). */
    private static final class Interrupted extends RuntimeException {
        Interrupted(StepKey key) {
            super("interrupted by txstep-test after step " + key + " committed", null, false, false);
        }
    }

    /**
     * How a run ended: a value, empty, an error, or not within the timeout.
     *
     * @param <T> the result type
     */
    private record Outcome<T>(T value, boolean completed, Throwable error) {

        static <T> Outcome<T> of(Mono<T> run, Duration timeout) {
            try {
                return run.map(Outcome::<T>value)
                        .switchIfEmpty(Mono.fromSupplier(Outcome::<T>empty))
                        .onErrorResume(e -> Mono.just(failed(e)))
                        .block(timeout);
            } catch (IllegalStateException e) {
                return new Outcome<>(null, false, e); // block's timeout
            }
        }

        static <T> Outcome<T> value(T value) {
            return new Outcome<>(value, true, null);
        }

        static <T> Outcome<T> empty() {
            return new Outcome<>(null, true, null);
        }

        static <T> Outcome<T> failed(Throwable error) {
            return new Outcome<>(null, true, error);
        }

        boolean timedOut() {
            return !completed;
        }

        boolean sameAs(Outcome<T> other, BiPredicate<? super T, ? super T> sameResult) {
            if (!completed || !other.completed) {
                return false;
            }
            if (error != null || other.error != null) {
                return error != null && other.error != null && errorType(error).equals(errorType(other.error))
                        && Objects.equals(errorMessage(error), errorMessage(other.error));
            }
            if (value == null || other.value == null) {
                return value == other.value;
            }
            return sameResult.test(value, other.value);
        }

        /** A replayed error compares as the error it records. */
        private static String errorType(Throwable e) {
            return e instanceof RecordedStepException r ? r.errorType() : e.getClass().getName();
        }

        private static String errorMessage(Throwable e) {
            return e instanceof RecordedStepException r ? r.errorMessage() : e.getMessage();
        }

        @Override
        public String toString() {
            if (!completed) {
                return "no outcome (timed out)";
            }
            if (error != null) {
                return "error " + errorType(error) + ": " + errorMessage(error);
            }
            return value == null ? "an empty result" : "result " + value;
        }
    }
}
