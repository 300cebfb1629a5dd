package dev.txstep.spring;

import dev.txstep.spi.StepContextContributor;
import io.micrometer.context.ContextRegistry;
import io.micrometer.context.ThreadLocalAccessor;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import org.springframework.r2dbc.connection.ConnectionHolder;
import org.springframework.transaction.reactive.TransactionContext;
import org.springframework.transaction.reactive.TransactionContextManager;
import org.springframework.transaction.reactive.TransactionSynchronizationManager;
import reactor.util.context.Context;

/**
 * Makes Spring's R2DBC data access run inside txstep steps: {@code DatabaseClient},
 * {@code R2dbcEntityTemplate} and Spring Data R2DBC repositories built on the datasource's
 * {@link ConnectionFactory}, called from a step's function, run on the step's connection, in its
 * transaction. Their writes commit with the step's output row or roll back with the step, and once a
 * step is cancelled or has failed their late statements are refused (the connection they get is the
 * step's gated one). The starter adds {@link #contributor()} to the datasource it auto-configures;
 * add it yourself to a datasource you build: {@code Config.builder().addContextContributor(
 * SpringDataAccess.contributor())}.
 *
 * <p>How: Spring's {@code ConnectionFactoryUtils.getConnection(factory)} looks for a connection
 * bound to the factory in the reactive transaction context of its subscriber. The contributor gives
 * each step's function a transaction context of its own in which the step's connection is bound to
 * the datasource's factory, marked as an active transaction. So Spring uses that connection and,
 * since it did not open it, never commits, rolls back or closes it; a {@code @Transactional}
 * ({@code REQUIRED}) method or {@code TransactionalOperator} called inside the step joins the step's
 * transaction instead of starting one. {@code REQUIRES_NEW} or {@code NOT_SUPPORTED} suspend it and
 * run on another connection, outside the step: not exactly-once. Outside a step nothing changes.
 *
 * <p>Blocking code (a {@code BlockingDatasource} step, a blocking {@link TxStep} method) that
 * subscribes Spring's publishers with {@code block()} joins too when the Reactor context reaches the
 * {@code block()}: with {@code Hooks.enableAutomaticContextPropagation()} (Spring Boot:
 * {@code spring.reactor.context-propagation=auto}), or by writing {@code .contextCapture().block()}.
 * For that, {@link #contributor()} registers a context-propagation accessor for Spring's reactive
 * transaction context; the step's worker thread carries the step's one while the function runs.
 *
 * <p>Only data access on the datasource's own factory joins: a {@code DatabaseClient} built on
 * another factory (another pool over the same database, say) is not the step's.
 */
public final class SpringDataAccess {

    private static final StepContextContributor CONTRIBUTOR = SpringDataAccess::contribute;

    private SpringDataAccess() {
    }

    /**
     * The contributor that binds each step's connection for Spring's R2DBC data access. The first
     * call registers the thread-local accessor the blocking case needs in
     * {@link ContextRegistry#getInstance()}.
     *
     * @return the contributor, to pass to
     *         {@link dev.txstep.DatasourceConfig.Builder#addContextContributor}; the same instance on
     *         every call
     */
    public static StepContextContributor contributor() {
        TransactionContextAccessor.register();
        return CONTRIBUTOR;
    }

    private static Context contribute(Context context, Connection connection, ConnectionFactory factory) {
        // A fresh holder and transaction context, so neither a Spring transaction the step was
        // subscribed in nor another step's binding is seen; the holder makes a @Transactional
        // method inside the step find this context (and join) instead of creating its own.
        Context fresh = TransactionContextManager.getOrCreateContext()
                .apply(TransactionContextManager.getOrCreateContextHolder().apply(Context.empty()));
        TransactionContext transaction = fresh.get(TransactionContext.class);
        transaction.setActualTransactionActive(true);
        // transactionActive = true: Spring treats it as an ongoing transaction it must not end.
        new TransactionSynchronizationManager(transaction).bindResource(factory, new ConnectionHolder(connection, true));
        return context.putAll(fresh.readOnly());
    }

    /**
     * Carries Spring's reactive transaction context between the Reactor context and a thread, under
     * the key Spring looks it up by, for blocking code: restored on the step's worker thread,
     * captured again by {@code contextCapture()} or automatic propagation at {@code block()}.
     */
    static final class TransactionContextAccessor implements ThreadLocalAccessor<TransactionContext> {

        private static final ThreadLocal<TransactionContext> CURRENT = new ThreadLocal<>();
        private static volatile boolean registered;

        static synchronized void register() {
            if (!registered) {
                ContextRegistry.getInstance().registerThreadLocalAccessor(new TransactionContextAccessor());
                registered = true;
            }
        }

        @Override
        public Object key() {
            return TransactionContext.class;
        }

        @Override
        public TransactionContext getValue() {
            return CURRENT.get();
        }

        @Override
        public void setValue(TransactionContext value) {
            CURRENT.set(value);
        }

        @Override
        public void setValue() {
            CURRENT.remove();
        }
    }
}
