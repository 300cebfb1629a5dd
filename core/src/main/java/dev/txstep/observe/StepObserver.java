package dev.txstep.observe;

import dev.txstep.AsyncDatasource;
import dev.txstep.StepKey;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import reactor.util.context.Context;
import reactor.util.context.ContextView;

/**
 * Hears what a datasource's steps do, for metrics and tracing: give one to
 * {@link dev.txstep.DatasourceConfig.Builder#observer}. {@code dev.txstep.micrometer.MicrometerStepObserver}
 * turns the calls into Micrometer meters.
 *
 * <p>Calls arrive on whatever thread the step's work ended on — often an event loop — so an
 * implementation must be quick, must not block and must not throw (an exception it throws is
 * logged and dropped).
 */
public interface StepObserver {

    /** Observes nothing. */
    StepObserver NONE = new StepObserver() {
    };

    /**
     * One observer that passes every call on to each of {@code observers}, in order: a datasource
     * takes a single observer, this gives it several (meters and tracing, say). Each step gets the
     * observers the members return from {@link #stepStarted(StepStart, ContextView)}; their
     * {@link #stepContext} additions are applied one after the other. A member that throws is
     * logged and skipped; the others are still called.
     *
     * @param observers the observers, none of them null
     * @return an observer telling all of them; {@link #NONE} for none, the observer itself for one
     */
    static StepObserver composite(StepObserver... observers) {
        List<StepObserver> members = new ArrayList<>();
        for (StepObserver observer : observers) {
            Objects.requireNonNull(observer, "observer");
            if (observer != NONE) {
                members.add(observer);
            }
        }
        if (members.isEmpty()) {
            return NONE;
        }
        return members.size() == 1 ? members.get(0) : new CompositeStepObserver(members);
    }

    /**
     * Called once, when a datasource that uses this observer has been created, for observers that
     * also watch the datasource itself (its connection pool, say).
     *
     * @param datasource the new datasource
     */
    default void datasourceCreated(AsyncDatasource datasource) {
    }

    /**
     * A step was subscribed; it has not taken a connection yet. Returns who hears how this one step
     * goes: {@link #stepRetried}, {@link #stepFinished} and {@link #stepContext} are called on the
     * returned observer, so an observer that follows steps one by one (a tracing span, say) returns
     * a new one here. The default returns this observer.
     *
     * @param stepName the step's name
     * @param key      the step's key in its workflow, or null for a step that is not recorded
     * @param context  the Reactor context the step was subscribed with (the caller's current
     *                 observation or span, if any, is found in it)
     * @return the observer of this step, not null; an exception thrown or a null returned is logged
     *         and this observer is used instead
     */
    default StepObserver stepStarted(String stepName, StepKey key, ContextView context) {
        return this;
    }

    /**
     * A step was subscribed; the engine calls this method, with the step's isolation level and
     * read-only flag besides its name and key. The default calls
     * {@link #stepStarted(String, StepKey, ContextView)}, so an observer written against that
     * method keeps working; an observer that needs the transaction's settings (a tracing span's
     * attributes, say) overrides this one instead. Its result is used as that method's is.
     *
     * @param start   the step's name, key and transaction settings
     * @param context the Reactor context the step was subscribed with
     * @return the observer of this step, not null
     */
    default StepObserver stepStarted(StepStart start, ContextView context) {
        return stepStarted(start.stepName(), start.key(), context);
    }

    /**
     * For the observer {@link #stepStarted} returned: adds to the Reactor context the step's
     * function is subscribed with (the step's span, so that spans made by the function's own work
     * are its children). Called once per attempt, like
     * {@link dev.txstep.spi.StepContextContributor#contribute}. The default adds nothing.
     *
     * @param context the context the function would run with
     * @return the context the function runs with
     */
    default Context stepContext(Context context) {
        return context;
    }

    /**
     * An attempt of a step failed with a transient error and the step will be attempted again.
     *
     * @param stepName the step's name
     * @param sqlState the SQLSTATE the database reported, or null (e.g. a lost connection)
     */
    default void stepRetried(String stepName, String sqlState) {
    }

    /**
     * A step finished.
     *
     * @param event what happened
     */
    default void stepFinished(StepEvent event) {
    }
}
