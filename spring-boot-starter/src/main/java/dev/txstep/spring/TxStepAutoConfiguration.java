package dev.txstep.spring;

import dev.txstep.AsyncDatasource;
import dev.txstep.BlockingDatasource;
import org.aopalliance.intercept.MethodInterceptor;
import org.springframework.aop.config.AopConfigUtils;
import org.springframework.aop.support.DefaultPointcutAdvisor;
import org.springframework.aop.support.annotation.AnnotationMatchingPointcut;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.config.BeanDefinition;
import org.springframework.beans.factory.support.BeanDefinitionRegistry;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.context.annotation.ImportBeanDefinitionRegistrar;
import org.springframework.context.annotation.Role;
import org.springframework.core.type.AnnotationMetadata;

/**
 * Makes {@link TxStep} methods steps: an AOP advisor runs each annotated method of a Spring bean
 * through the auto-configured datasource, and a check refuses at start-up the annotated methods that
 * cannot work. Needs {@code spring-aop} (every Spring Boot application has it); registers Spring's
 * infrastructure auto-proxy creator with class-based proxies, as {@code @EnableTransactionManagement}
 * does, unless a stronger one (AspectJ's, say) is already there.
 */
@AutoConfiguration(after = TxstepAutoConfiguration.class)
@ConditionalOnClass({AsyncDatasource.class, MethodInterceptor.class, DefaultPointcutAdvisor.class})
@Import(TxStepAutoConfiguration.AutoProxies.class)
public class TxStepAutoConfiguration {

    /** Creates the auto-configuration; Spring calls it. */
    public TxStepAutoConfiguration() {
    }

    /**
     * The advisor: the pointcut matches {@code @TxStep} methods (also when declared on an
     * interface or superclass), the interceptor runs them as steps. Static and infrastructure, so
     * it exists before the beans it may proxy.
     */
    @Bean
    @Role(BeanDefinition.ROLE_INFRASTRUCTURE)
    static DefaultPointcutAdvisor txstepTxStepAdvisor(ObjectProvider<AsyncDatasource> async,
            ObjectProvider<BlockingDatasource> blocking) {
        DefaultPointcutAdvisor advisor = new DefaultPointcutAdvisor(
                new AnnotationMatchingPointcut(null, TxStep.class, true), new TxStepInterceptor(async, blocking));
        return advisor;
    }

    /** Refuses unusable {@code @TxStep} methods as their beans are created. */
    @Bean
    @Role(BeanDefinition.ROLE_INFRASTRUCTURE)
    static TxStepMethods txstepTxStepMethods() {
        return new TxStepMethods();
    }

    /** Registers the auto-proxy creator, with class-based proxies (Spring Boot's default). */
    static final class AutoProxies implements ImportBeanDefinitionRegistrar {
        @Override
        public void registerBeanDefinitions(AnnotationMetadata metadata, BeanDefinitionRegistry registry) {
            AopConfigUtils.registerAutoProxyCreatorIfNecessary(registry);
            AopConfigUtils.forceAutoProxyCreatorToUseClassProxying(registry);
        }
    }
}
