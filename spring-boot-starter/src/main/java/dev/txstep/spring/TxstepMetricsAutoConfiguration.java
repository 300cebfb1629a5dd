package dev.txstep.spring;

import dev.txstep.micrometer.MicrometerStepObserver;
import dev.txstep.observe.StepObserver;
import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;

/**
 * Records txstep's step meters ({@code txstep.steps}, {@code txstep.step.duration},
 * {@code txstep.step.retries}; see {@link MicrometerStepObserver}) in the application's
 * {@link MeterRegistry}, when Micrometer is on the class path and a registry is defined (Spring Boot
 * Actuator defines one). Runs after Spring Boot's registry auto-configuration so that
 * {@code @ConditionalOnBean} sees the registry; the datasource, created later, takes the observer
 * whatever the order of the auto-configurations, combined with the observer of
 * {@link TxstepObservationAutoConfiguration} when there is one. Spring Boot measures its connection
 * pool itself ({@code r2dbc.pool.*}).
 *
 * <p>Backs off when the application defines its own {@link StepObserver} bean.
 */
@AutoConfiguration(afterName = "org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration")
@ConditionalOnClass({MeterRegistry.class, MicrometerStepObserver.class})
@ConditionalOnBean(MeterRegistry.class)
public class TxstepMetricsAutoConfiguration {

    /** Creates the auto-configuration; Spring calls it. */
    public TxstepMetricsAutoConfiguration() {
    }

    /** The observer the auto-configured datasource reports to. */
    @Bean
    // The observation observer is the starter's own, not the application's: it does not make this one back off.
    @ConditionalOnMissingBean(value = StepObserver.class, ignoredType = "dev.txstep.micrometer.ObservationStepObserver")
    MicrometerStepObserver txstepMicrometerStepObserver(MeterRegistry registry) {
        return new MicrometerStepObserver(registry);
    }
}
