package dev.txstep.spring;

import dev.txstep.AsyncDatasource;
import dev.txstep.BlockingDatasource;
import dev.txstep.DatasourceOptions;
import dev.txstep.NoTransactionException;
import java.lang.reflect.Method;
import org.aopalliance.intercept.MethodInterceptor;
import org.aopalliance.intercept.MethodInvocation;
import org.springframework.aop.ProxyMethodInvocation;
import org.springframework.aop.support.AopUtils;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.core.annotation.AnnotatedElementUtils;
import reactor.core.Exceptions;
import reactor.core.publisher.Mono;

/**
 * Runs a {@link TxStep} method's body as a step (see the annotation for the contract). The
 * datasources are looked up on first use, not when the interceptor is built: advisors are created
 * early, before the beans they would otherwise pull in.
 */
final class TxStepInterceptor implements MethodInterceptor {

    private final ObjectProvider<AsyncDatasource> async;
    private final ObjectProvider<BlockingDatasource> blocking;

    TxStepInterceptor(ObjectProvider<AsyncDatasource> async, ObjectProvider<BlockingDatasource> blocking) {
        this.async = async;
        this.blocking = blocking;
    }

    @Override
    public Object invoke(MethodInvocation invocation) throws Throwable {
        Method method = invocation.getMethod();
        Class<?> targetClass = invocation.getThis() == null ? method.getDeclaringClass()
                : AopUtils.getTargetClass(invocation.getThis());
        Method specific = AopUtils.getMostSpecificMethod(method, targetClass);
        TxStep step = AnnotatedElementUtils.findMergedAnnotation(specific, TxStep.class);
        if (step == null) {
            return invocation.proceed();
        }
        DatasourceOptions options = options(step, targetClass, specific);
        if (Mono.class.isAssignableFrom(method.getReturnType())) {
            return reactive(invocation, options);
        }
        return blocking(invocation, options);
    }

    /** The step's options: its name is the annotation's, else {@code SimpleClassName.method}. */
    static DatasourceOptions options(TxStep step, Class<?> targetClass, Method method) {
        String name = step.name().isEmpty() ? defaultName(targetClass, method) : step.name();
        DatasourceOptions options = new DatasourceOptions(name, step.isolation());
        return step.readOnly() ? options.asReadOnly() : options;
    }

    /** The documented default name: stable across runs and deployments as long as the code is. */
    static String defaultName(Class<?> targetClass, Method method) {
        return targetClass.getSimpleName() + "." + method.getName();
    }

    private Mono<Object> reactive(MethodInvocation invocation, DatasourceOptions options) {
        AsyncDatasource datasource = async.getObject();
        // Each subscription (and each retry of a transient failure) invokes the body afresh, inside
        // the step, so work the body does before returning its Mono is part of the step too.
        Mono<Object> body = Mono.defer(() -> proceed(invocation));
        return datasource.sqlSession()
                .map(session -> Boolean.TRUE)
                .onErrorReturn(NoTransactionException.class, Boolean.FALSE)
                // Inside a step: join it (the body runs in the outer step's transaction).
                .flatMap(inside -> inside ? body : datasource.runTxStepAsync(options, session -> body));
    }

    private Object blocking(MethodInvocation invocation, DatasourceOptions options) throws Throwable {
        BlockingDatasource datasource = blocking.getObject();
        if (insideBlockingStep(datasource)) {
            return invocation.proceed();
        }
        try {
            return datasource.runTxStep(options, session -> {
                try {
                    return copy(invocation).proceed();
                } catch (Throwable e) {
                    // A checked exception of the body is the step's outcome like any other: thrown
                    // as it is (the function type cannot declare it).
                    throw TxStepInterceptor.<RuntimeException>sneaky(e);
                }
            });
        } catch (RuntimeException e) {
            // block() wraps a checked exception in a Reactor type: give the caller the body's own.
            throw Exceptions.unwrap(e);
        }
    }

    @SuppressWarnings("unchecked")
    private static <E extends Throwable> E sneaky(Throwable e) throws E {
        throw (E) e;
    }

    private static boolean insideBlockingStep(BlockingDatasource datasource) {
        try {
            datasource.sqlSession();
            return true;
        } catch (NoTransactionException outside) {
            return false;
        }
    }

    @SuppressWarnings("unchecked")
    private static Mono<Object> proceed(MethodInvocation invocation) {
        try {
            Object value = copy(invocation).proceed();
            return value == null ? Mono.empty() : (Mono<Object>) value;
        } catch (Throwable e) {
            return Mono.error(e);
        }
    }

    /** An invocation that can proceed once more (a retry invokes the body again). */
    private static MethodInvocation copy(MethodInvocation invocation) {
        return invocation instanceof ProxyMethodInvocation proxied ? proxied.invocableClone() : invocation;
    }
}
