package dev.txstep.internal.engine;

import dev.txstep.observe.StepObserver;
import dev.txstep.spi.StepContextContributor;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.util.context.Context;

/**
 * What a step's function runs with besides its session: the additions of the step's observer (a
 * tracing span, say) and of the configured {@link StepContextContributor}s (an integration binding
 * the step's connection for its own data-access code). The step's observer travels to the attempt
 * in the Reactor context under this object's key, so that no method between has to pass it on.
 */
final class FunctionContext {

    private static final Logger LOG = LoggerFactory.getLogger(StepEngine.class);

    private final Object observerKey = new Object();
    private final List<StepContextContributor> contributors;
    private final ConnectionFactory connections;

    FunctionContext(List<StepContextContributor> contributors, ConnectionFactory connections) {
        this.contributors = List.copyOf(contributors);
        this.connections = connections;
    }

    /** The key under which {@link #carrying} puts the step's observer. */
    Object observerKey() {
        return observerKey;
    }

    /** The step's context, carrying the step's observer to its attempts. */
    Context carrying(Context context, StepObserver stepObserver) {
        return stepObserver == StepObserver.NONE ? context : context.put(observerKey, stepObserver);
    }

    /**
     * The context the function runs with: the step's own entries, then the step observer's and the
     * contributors', in the order they were added. A contributor's exception fails the attempt as
     * the function's would (its work cannot run as the contributor meant); the observer's is logged
     * and ignored, as every observer failure is.
     */
    Context of(Context context, Connection connection) {
        Context result = context;
        StepObserver stepObserver = context.getOrDefault(observerKey, StepObserver.NONE);
        if (stepObserver != StepObserver.NONE) {
            try {
                result = stepObserver.stepContext(result);
            } catch (RuntimeException e) {
                LOG.warn("the step observer failed; ignored", e);
            }
        }
        for (StepContextContributor contributor : contributors) {
            result = contributor.contribute(result, connection, connections);
        }
        return result;
    }
}
