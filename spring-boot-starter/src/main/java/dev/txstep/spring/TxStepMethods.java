package dev.txstep.spring;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Future;
import org.reactivestreams.Publisher;
import org.springframework.aop.support.AopUtils;
import org.springframework.beans.BeansException;
import org.springframework.beans.factory.BeanCreationException;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.core.annotation.AnnotatedElementUtils;
import org.springframework.core.annotation.MergedAnnotations;
import org.springframework.util.ClassUtils;
import org.springframework.util.ReflectionUtils;
import reactor.core.publisher.Mono;

/**
 * Refuses, as each bean is created (so at start-up for singletons), the {@link TxStep} methods
 * that cannot work, naming the method: a proxy cannot intercept them, their return type cannot be
 * one step's value, or {@code @Transactional} would fight over the transaction.
 */
final class TxStepMethods implements BeanPostProcessor {

    private static final String[] TRANSACTIONAL = {
        "org.springframework.transaction.annotation.Transactional", "jakarta.transaction.Transactional"};

    @Override
    public Object postProcessBeforeInitialization(Object bean, String beanName) throws BeansException {
        Class<?> type = ClassUtils.getUserClass(AopUtils.getTargetClass(bean));
        ReflectionUtils.doWithMethods(type, method -> {
            String problem = problem(type, method);
            if (problem != null) {
                throw new BeanCreationException(beanName, "@TxStep on " + describe(method) + " cannot work: " + problem);
            }
        }, method -> AnnotatedElementUtils.hasAnnotation(method, TxStep.class));
        return bean;
    }

    /** What makes a {@code @TxStep} method unusable, or null. */
    static String problem(Class<?> type, Method method) {
        int modifiers = method.getModifiers();
        if (Modifier.isPrivate(modifiers) || Modifier.isStatic(modifiers) || Modifier.isFinal(modifiers)) {
            return "the method is " + (Modifier.isPrivate(modifiers) ? "private" : Modifier.isStatic(modifiers)
                    ? "static" : "final") + ", so Spring's proxy cannot intercept it; make it public (or protected)"
                    + " and non-final";
        }
        if (Modifier.isFinal(type.getModifiers())) {
            return "its class " + type.getName() + " is final, so Spring's class-based proxy cannot intercept it";
        }
        Class<?> returned = method.getReturnType();
        if (Publisher.class.isAssignableFrom(returned) && !Mono.class.isAssignableFrom(returned)) {
            return "it returns " + returned.getSimpleName() + ": a step has at most one value, produced inside its"
                    + " transaction; return a Mono (collect a Flux into a list)";
        }
        if (CompletionStage.class.isAssignableFrom(returned) || Future.class.isAssignableFrom(returned)) {
            return "it returns " + returned.getSimpleName() + ", work that would finish after the step's transaction;"
                    + " return a Mono, or the value itself";
        }
        for (String transactional : TRANSACTIONAL) {
            if (MergedAnnotations.from(method).isPresent(transactional)
                    || MergedAnnotations.from(type).isPresent(transactional)) {
                return "it is also @Transactional (" + transactional + "): a step owns its transaction and records"
                        + " its output in it; remove @Transactional (a @TxStep method called inside a step joins"
                        + " that step's transaction, as REQUIRED does)";
            }
        }
        return null;
    }

    private static String describe(Method method) {
        StringBuilder text = new StringBuilder(method.getDeclaringClass().getName()).append('.')
                .append(method.getName()).append('(');
        Class<?>[] parameters = method.getParameterTypes();
        for (int i = 0; i < parameters.length; i++) {
            text.append(i == 0 ? "" : ", ").append(parameters[i].getSimpleName());
        }
        return text.append(')').toString();
    }
}
