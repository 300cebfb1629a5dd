package dev.txstep.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.txstep.reactor.IdempotencyKeyWebFilter;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.test.context.runner.ReactiveWebApplicationContextRunner;
import org.springframework.boot.test.context.runner.WebApplicationContextRunner;

/** When the Idempotency-Key filter is registered, and with which settings. No database is involved. */
class TxstepWebFluxAutoConfigurationTest {

    private final ReactiveWebApplicationContextRunner reactive = new ReactiveWebApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(TxstepWebFluxAutoConfiguration.class));

    @Test
    void theFilterIsRegisteredOnlyWhenEnabled() {
        reactive.run(context -> assertThat(context).hasNotFailed().doesNotHaveBean(IdempotencyKeyWebFilter.class));
        reactive.withPropertyValues("txstep.web.idempotency-key.enabled=true")
                .run(context -> assertThat(context).hasSingleBean(IdempotencyKeyWebFilter.class));
    }

    @Test
    void notInANonWebApplication() {
        new ApplicationContextRunner().withConfiguration(AutoConfigurations.of(TxstepWebFluxAutoConfiguration.class))
                .withPropertyValues("txstep.web.idempotency-key.enabled=true")
                .run(context -> assertThat(context).doesNotHaveBean(IdempotencyKeyWebFilter.class));
    }

    @Test
    void notInAServletApplication() {
        new WebApplicationContextRunner().withConfiguration(AutoConfigurations.of(TxstepWebFluxAutoConfiguration.class))
                .withPropertyValues("txstep.web.idempotency-key.enabled=true")
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    assertThat(context.getServletContext()).isNotNull(); // a servlet application indeed
                    assertThat(context).doesNotHaveBean(IdempotencyKeyWebFilter.class);
                });
    }

    @Test
    void theHeaderAndPrefixComeFromTheProperties() {
        reactive.withPropertyValues("txstep.web.idempotency-key.enabled=true",
                "txstep.web.idempotency-key.header-name=X-Request-Key",
                "txstep.web.idempotency-key.workflow-id-prefix=orders:").run(context -> {
                    IdempotencyKeyWebFilter filter = context.getBean(IdempotencyKeyWebFilter.class);
                    assertEquals("orders:k1", filter.workflowIdFor("k1"));
                    assertTrue(filter.toString().contains("header=X-Request-Key"), filter.toString());
                });
    }

    @Test
    void theFingerprintSettingsComeFromTheProperties() {
        reactive.withPropertyValues("txstep.web.idempotency-key.enabled=true",
                "txstep.web.idempotency-key.fingerprint-headers=X-Tenant,X-Account",
                "txstep.web.idempotency-key.max-body-size=1KB",
                "txstep.web.idempotency-key.retry-after=3s").run(context -> {
                    String filter = context.getBean(IdempotencyKeyWebFilter.class).toString();
                    // No AsyncDatasource bean here: no fingerprints, the other settings still apply.
                    assertTrue(filter.contains("no fingerprints") && filter.contains("retry-after 3s"), filter);
                });
        reactive.withPropertyValues("txstep.web.idempotency-key.enabled=true",
                "txstep.web.idempotency-key.retry-after=0s").run(context -> {
                    assertThat(context).hasFailed();
                    assertThat(context.getStartupFailure()).rootCause()
                            .isInstanceOf(InvalidConfigurationPropertyValueException.class)
                            .hasMessageContaining("txstep.web.idempotency-key.retry-after");
                });
    }

    @Test
    void anApplicationsOwnFilterWins() {
        IdempotencyKeyWebFilter own = IdempotencyKeyWebFilter.builder().workflowIdPrefix("own:").build();
        reactive.withPropertyValues("txstep.web.idempotency-key.enabled=true")
                .withBean(IdempotencyKeyWebFilter.class, () -> own)
                .run(context -> assertThat(context).getBean(IdempotencyKeyWebFilter.class).isSameAs(own));
    }

    @Test
    void aHeaderNameThatIsNotAFieldNameFailsStartUpNamingTheProperty() {
        reactive.withPropertyValues("txstep.web.idempotency-key.enabled=true",
                "txstep.web.idempotency-key.header-name=Idempotency Key").run(context -> {
                    assertThat(context).hasFailed();
                    assertThat(context.getStartupFailure()).rootCause()
                            .isInstanceOf(InvalidConfigurationPropertyValueException.class)
                            .hasMessageContaining("txstep.web.idempotency-key.header-name");
                });
    }
}
