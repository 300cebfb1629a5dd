package dev.txstep.observe;

import dev.txstep.AsyncDatasource;

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
     * Called once, when a datasource that uses this observer has been created, for observers that
     * also watch the datasource itself (its connection pool, say).
     *
     * @param datasource the new datasource
     */
    default void datasourceCreated(AsyncDatasource datasource) {
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
