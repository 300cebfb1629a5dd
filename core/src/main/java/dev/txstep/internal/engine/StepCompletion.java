package dev.txstep.internal.engine;

import dev.txstep.OutputSerializationException;
import dev.txstep.observe.StepOutcome;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import reactor.core.CoreSubscriber;
import reactor.core.publisher.Mono;

/**
 * A step as its caller sees it: the step's {@link StepResult} turned into its value (cast to the
 * type the caller asked for), the step reported once as it ends ({@link StepReporter}), and the
 * engine's {@link Gate} left exactly once however the subscription ends (completion, error or
 * cancel). A {@link StepFailure} never passes: the caller gets the failure it carries. Upstream,
 * the step's attempts find the step's observer in their context ({@link FunctionContext#carrying}).
 * A cancelled step is not reported, as it has no outcome.
 *
 * <p>One subscriber instead of the {@code contextWrite}, {@code onErrorMap}, {@code doOnSuccess},
 * {@code doOnError}, {@code doFinally} and {@code flatMap} it replaced: every step passes here, and
 * each operator is a subscriber of its own that every signal crosses (issue 15, BENCHMARKS.md).
 */
final class StepCompletion<R> extends Mono<R> {

    private final Mono<StepResult> outcome;
    private final StepRun run;
    private final StepSpec spec;
    private final StepReporter reporter;
    private final Gate gate;
    private final FunctionContext functionContext;

    /**
     * @param outcome the step, emitting its result
     * @param run     the step's report so far; its observer travels upstream in the context
     * @param gate    entered for this step; left once, when the step ends
     */
    StepCompletion(Mono<StepResult> outcome, StepRun run, StepSpec spec, StepReporter reporter, Gate gate,
            FunctionContext functionContext) {
        this.outcome = outcome;
        this.run = run;
        this.spec = spec;
        this.reporter = reporter;
        this.gate = gate;
        this.functionContext = functionContext;
    }

    @Override
    public void subscribe(CoreSubscriber<? super R> actual) {
        outcome.subscribe(new Completing<>(actual, this));
    }

    private static final class Completing<R> extends TerminalSubscriber<StepResult, R> {

        @SuppressWarnings("rawtypes")
        private static final AtomicIntegerFieldUpdater<Completing> LEFT =
                AtomicIntegerFieldUpdater.newUpdater(Completing.class, "left");

        private final StepCompletion<R> step;
        private StepResult result;
        /** 1 once the gate was left. */
        private volatile int left;

        Completing(CoreSubscriber<? super R> actual, StepCompletion<R> step) {
            super(actual, step.functionContext.carrying(actual.currentContext(), step.run.observer));
            this.step = step;
        }

        @Override
        void value(StepResult value) {
            result = value;
        }

        @Override
        void failed(Throwable error) {
            Throwable surfaced = error instanceof StepFailure ? error.getCause() : error;
            step.reporter.finished(step.run, StepOutcome.FAILED, surfaced);
            try {
                actual.onError(surfaced);
            } finally {
                leaveGate();
            }
        }

        @Override
        void completed() {
            StepResult value = result;
            result = null;
            try {
                if (value == null) {
                    // Every path of a step emits a result; this is a defect, not the step's outcome.
                    actual.onError(new IllegalStateException("step '" + step.spec.name() + "' ended without a result"));
                    return;
                }
                step.reporter.finished(step.run, value.outcome(), null);
                if (value.value().isEmpty()) {
                    actual.onComplete();
                    return;
                }
                R output;
                try {
                    output = cast(value.value().get(), step.spec);
                } catch (OutputSerializationException e) {
                    actual.onError(e);
                    return;
                }
                complete(output);
            } finally {
                leaveGate();
            }
        }

        @Override
        public void cancel() {
            super.cancel();
            leaveGate();
        }

        private void leaveGate() {
            if (LEFT.compareAndSet(this, 0, 1)) {
                step.gate.exit();
            }
        }

        @SuppressWarnings("unchecked")
        private static <R> R cast(Object value, StepSpec spec) {
            if (spec.type() != null && !spec.type().isInstance(value)) {
                throw new OutputSerializationException("the output of step '" + spec.name() + "' is a "
                        + value.getClass().getName() + ", not the " + spec.type().getName() + " the caller asked for");
            }
            return (R) value;
        }
    }
}
