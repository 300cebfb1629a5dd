package dev.txstep.spring;

import dev.txstep.micrometer.ObservationStepObserver;
import dev.txstep.observe.StepObserver;
import io.micrometer.observation.ObservationRegistry;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;

/**
 * Makes each step a {@code txstep.step} observation in the application's
 * {@link ObservationRegistry} (see {@link ObservationStepObserver}), when Micrometer Observation is
 * on the class path and a registry is defined (Spring Boot Actuator defines one). With Micrometer
 * Tracing configured, each step is then a span, child of the request's; with a meter registry,
 * Spring Boot's meter handler also times it ({@code txstep.step}). Runs after Spring Boot's
 * observation auto-configuration so that {@code @ConditionalOnBean} sees the registry; the
 * datasource combines this observer with the other {@link StepObserver} beans (the meters of
 * {@link TxstepMetricsAutoConfiguration}).
 *
 * <p>Backs off when the application defines its own {@link StepObserver} bean.
 */
@AutoConfiguration(afterName = "org.springframework.boot.micrometer.observation.autoconfigure.ObservationAutoConfiguration")
@ConditionalOnClass({ObservationRegistry.class, ObservationStepObserver.class})
@ConditionalOnBean(ObservationRegistry.class)
public class TxstepObservationAutoConfiguration {

    /** Creates the auto-configuration; Spring calls it. */
    public TxstepObservationAutoConfiguration() {
    }

    /** The observer making the auto-configured datasource's steps observations. */
    @Bean
    // The meters observer is the starter's own, not the application's: it does not make this one back off.
    @ConditionalOnMissingBean(value = StepObserver.class, ignoredType = "dev.txstep.micrometer.MicrometerStepObserver")
    ObservationStepObserver txstepObservationStepObserver(ObservationRegistry registry) {
        return new ObservationStepObserver(registry);
    }
}
