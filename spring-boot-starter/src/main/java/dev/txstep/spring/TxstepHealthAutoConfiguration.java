package dev.txstep.spring;

import dev.txstep.AsyncDatasource;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.health.autoconfigure.contributor.ConditionalOnEnabledHealthIndicator;
import org.springframework.boot.health.contributor.ReactiveHealthIndicator;
import org.springframework.context.annotation.Bean;

/**
 * Adds the {@code txstep} health contributor (see {@link TxstepHealthIndicator}) when Spring Boot's
 * health support is on the class path (Spring Boot Actuator brings it) and there is an
 * {@link AsyncDatasource}. Turn it off with {@code management.health.txstep.enabled=false}.
 */
@AutoConfiguration(after = TxstepAutoConfiguration.class)
@ConditionalOnClass(ReactiveHealthIndicator.class)
@ConditionalOnBean(AsyncDatasource.class)
public class TxstepHealthAutoConfiguration {

    /** Creates the auto-configuration; Spring calls it. */
    public TxstepHealthAutoConfiguration() {
    }

    /** The contributor, named {@code txstep} after the bean name less its {@code HealthIndicator} suffix. */
    @Bean
    @ConditionalOnMissingBean(name = "txstepHealthIndicator")
    // On the method, not the class: a class's conditions are all loaded before any is evaluated,
    // so this one would fail to load where spring-boot-health is missing and the class condition
    // has not already filtered the class out (as Spring Boot's import filter does).
    @ConditionalOnEnabledHealthIndicator("txstep")
    ReactiveHealthIndicator txstepHealthIndicator(AsyncDatasource datasource) {
        return new TxstepHealthIndicator(datasource);
    }
}
