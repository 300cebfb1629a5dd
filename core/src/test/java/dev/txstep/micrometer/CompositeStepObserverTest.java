package dev.txstep.micrometer;

import static dev.txstep.testing.Workflows.inWorkflow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.txstep.AsyncDatasource;
import dev.txstep.DatasourceConfig;
import dev.txstep.DatasourceOptions;
import dev.txstep.observe.StepEvent;
import dev.txstep.observe.StepObserver;
import dev.txstep.testing.TestDatabases;
import dev.txstep.testing.TestSchema;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.observation.tck.TestObservationRegistry;
import io.micrometer.observation.tck.TestObservationRegistryAssert;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

/** {@link StepObserver#composite}: meters and observations from one datasource, on PostgreSQL. */
class CompositeStepObserverTest {

    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private final TestObservationRegistry observations = TestObservationRegistry.create();
    private final String url = TestDatabases.postgresR2dbcUrl();
    private final String schema = TestDatabases.uniqueSchema("composite");
    private AsyncDatasource ds;

    @AfterEach
    void tearDown() {
        if (ds != null) {
            ds.close().block(Duration.ofSeconds(30));
        }
        new TestSchema(url, schema).drop();
    }

    @Test
    void everyMemberHearsTheStepEvenAfterOneThrows() {
        StepObserver failing = new StepObserver() {
            @Override
            public void stepFinished(StepEvent event) {
                throw new IllegalStateException("a broken observer");
            }
        };
        ds = AsyncDatasource.create(DatasourceConfig.builder().url(url).schema(schema)
                .observer(StepObserver.composite(failing, new MicrometerStepObserver(meters),
                        new ObservationStepObserver(observations)))
                .build()).block(Duration.ofSeconds(30));

        inWorkflow("wf-" + UUID.randomUUID(), ds.runTxStepAsync(DatasourceOptions.named("both"),
                s -> s.execute("SELECT 1"))).block();

        assertEquals(1, meters.get("txstep.steps").tag("outcome", "executed").counter().count());
        TestObservationRegistryAssert.assertThat(observations).hasSingleObservationThat()
                .hasNameEqualTo("txstep.step").hasBeenStopped()
                .hasLowCardinalityKeyValue("txstep.step.outcome", "executed");
    }

    @Test
    void noneAndOneAreNotWrapped() {
        StepObserver one = new MicrometerStepObserver(meters);
        assertSame(StepObserver.NONE, StepObserver.composite());
        assertSame(one, StepObserver.composite(StepObserver.NONE, one));
    }
}
