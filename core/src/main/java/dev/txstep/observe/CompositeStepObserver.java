package dev.txstep.observe;

import dev.txstep.AsyncDatasource;
import dev.txstep.StepKey;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.util.context.Context;
import reactor.util.context.ContextView;

/**
 * Several observers heard as one (see {@link StepObserver#composite}). Each member is called in
 * turn and a member that throws is logged and skipped, so that one failing observer (a metrics
 * backend, say) does not silence the others, as the engine would for a single observer.
 */
final class CompositeStepObserver implements StepObserver {

    private static final Logger LOG = LoggerFactory.getLogger(StepObserver.class);

    private final List<StepObserver> members;

    CompositeStepObserver(List<StepObserver> members) {
        this.members = List.copyOf(members);
    }

    @Override
    public void datasourceCreated(AsyncDatasource datasource) {
        each(o -> o.datasourceCreated(datasource));
    }

    @Override
    public StepObserver stepStarted(String stepName, StepKey key, ContextView context) {
        return perStep(member -> member.stepStarted(stepName, key, context));
    }

    @Override
    public StepObserver stepStarted(StepStart start, ContextView context) {
        return perStep(member -> member.stepStarted(start, context));
    }

    /** Each member's observer of one step, the member itself where it failed to give one. */
    private StepObserver perStep(Function<StepObserver, StepObserver> started) {
        List<StepObserver> perStep = new ArrayList<>(members.size());
        for (StepObserver member : members) {
            StepObserver stepObserver = member;
            try {
                StepObserver returned = started.apply(member);
                if (returned != null) {
                    stepObserver = returned;
                }
            } catch (RuntimeException e) {
                LOG.warn("a step observer failed; ignored", e);
            }
            perStep.add(stepObserver);
        }
        return new CompositeStepObserver(perStep);
    }

    @Override
    public Context stepContext(Context context) {
        Context result = context;
        for (StepObserver member : members) {
            try {
                result = member.stepContext(result);
            } catch (RuntimeException e) {
                LOG.warn("a step observer failed; ignored", e);
            }
        }
        return result;
    }

    @Override
    public void stepRetried(String stepName, String sqlState) {
        each(o -> o.stepRetried(stepName, sqlState));
    }

    @Override
    public void stepFinished(StepEvent event) {
        each(o -> o.stepFinished(event));
    }

    private void each(Consumer<StepObserver> call) {
        for (StepObserver member : members) {
            try {
                call.accept(member);
            } catch (RuntimeException e) {
                LOG.warn("a step observer failed; ignored", e);
            }
        }
    }
}
