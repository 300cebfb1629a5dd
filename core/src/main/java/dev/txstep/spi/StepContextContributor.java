package dev.txstep.spi;

import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import reactor.util.context.Context;

/**
 * Adds entries to the Reactor {@code Context} a step's function is subscribed with, given the
 * connection the step's transaction runs on: the way an integration makes other data-access code
 * (Spring's {@code DatabaseClient}, say) run on that connection, inside the step's transaction.
 * Register one with {@link dev.txstep.DatasourceConfig.Builder#addContextContributor}.
 *
 * <p>Called once per attempt of a step, when the step's transaction has begun and just before its
 * function's publisher is subscribed, on the thread subscribing it (often an event loop): an
 * implementation must be quick and must not block. An exception it throws fails the attempt like
 * an error of the function.
 */
@FunctionalInterface
public interface StepContextContributor {

    /**
     * Returns the context the step's function runs with.
     *
     * @param context           the context so far: the subscriber's, plus the step's session and key
     * @param connection        the step's connection, in its transaction. It is gated: once the step
     *                          is cancelled or has failed, every request sent on it is refused, so
     *                          late statements of code that kept it never reach the database. The
     *                          contributor and the code it hands the connection to must not commit,
     *                          roll back or close it: the step does
     * @param connectionFactory the factory the datasource takes its connections from (the one given
     *                          to {@link dev.txstep.DatasourceConfig.Builder#connectionFactory}, or the
     *                          pool the datasource built)
     * @return the context to subscribe the function with, usually {@code context.put(...)}
     */
    Context contribute(Context context, Connection connection, ConnectionFactory connectionFactory);
}
