package dev.txstep.spring;

import dev.txstep.IsolationLevel;
import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Runs a Spring bean's method as one txstep transaction step: the Java form of DBOS's
 * {@code @transaction} decorator. The method's body runs in one database transaction on the
 * auto-configured datasource; inside a workflow ({@code Workflow.run}, a request carrying an
 * {@code Idempotency-Key}) its value is recorded in the same transaction as the step's output and a
 * replay returns the recorded value without running the body; outside one it is a plain
 * transaction with txstep's retries. In the body, Spring's R2DBC data access
 * ({@code DatabaseClient}, {@code R2dbcEntityTemplate}, Spring Data R2DBC repositories) runs in the
 * step's transaction (see {@link SpringDataAccess}).
 *
 * <ul>
 *   <li><b>Reactive:</b> a method returning {@code Mono<T>} runs as
 *       {@code AsyncDatasource.runTxStepAsync}; the body is invoked, lazily, when the returned
 *       {@code Mono} is subscribed, and again for each retry of a transient failure.</li>
 *   <li><b>Blocking:</b> a method returning anything else (or {@code void}) runs as
 *       {@code BlockingDatasource.runTxStep}: the caller waits, the body runs on a worker thread
 *       (never call it on an event loop: {@code BlockingCallException}).</li>
 *   <li><b>Nested:</b> a {@code @TxStep} method called inside a step (from another {@code @TxStep}
 *       method, or a step's function) joins that step's transaction, like Spring's
 *       {@code REQUIRED}: it records no step of its own and its own attributes are ignored.</li>
 *   <li><b>Proxies:</b> the method is intercepted by a Spring AOP proxy, so as with
 *       {@code @Transactional} only calls through the bean reach it: a call from another method of
 *       the same object ({@code this.debit(...)}, self-invocation) runs the body as plain code,
 *       without a step. Start-up fails, naming the method, for what cannot work: a private, static
 *       or final method or a final class (a proxy cannot intercept it), a {@code Flux} or other
 *       multi-value or asynchronous return type other than {@code Mono} (a step has at most one
 *       value, produced inside its transaction), and {@code @TxStep} together with Spring's or
 *       Jakarta's {@code @Transactional} (two owners of one transaction).</li>
 * </ul>
 *
 * <p>The value must be serializable by the datasource's serializer (Jackson by default) so that it
 * can be recorded. Errors: those of the body (recorded as the step's outcome, see txstep's
 * semantics), and txstep's {@code DatasourceException}s. Cancelling a reactive step's subscription
 * rolls its transaction back.
 */
@Target(ElementType.METHOD)
@Retention(RetentionPolicy.RUNTIME)
@Documented
public @interface TxStep {

    /**
     * The step's name, recorded with its output and checked on replay. Names are code, not data:
     * they are bounded, and metrics and traces use them as a low-cardinality tag.
     *
     * @return the name; empty (the default) means the simple name of the bean's class, a dot and
     *         the method's name, e.g. {@code TransferService.transfer} (overloads then share a name:
     *         name them apart)
     */
    String name() default "";

    /**
     * The transaction's isolation level.
     *
     * @return the level, {@code SERIALIZABLE} by default
     */
    IsolationLevel isolation() default IsolationLevel.SERIALIZABLE;

    /**
     * Whether the step only reads: it then runs in a read-only transaction, takes its step id and
     * records nothing.
     *
     * @return true for a read-only step; false by default
     */
    boolean readOnly() default false;
}
