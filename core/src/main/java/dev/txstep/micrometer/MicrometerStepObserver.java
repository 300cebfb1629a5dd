package dev.txstep.micrometer;

import dev.txstep.AsyncDatasource;
import dev.txstep.observe.StepEvent;
import dev.txstep.observe.StepObserver;
import dev.txstep.observe.StepOutcome;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.r2dbc.pool.ConnectionPool;
import io.r2dbc.pool.PoolMetrics;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.function.ToIntFunction;

/**
 * Records what steps do as Micrometer meters, all named {@code txstep.*}:
 * <ul>
 *   <li>{@code txstep.steps} (counter) and {@code txstep.step.duration} (timer), tagged
 *       {@code outcome} = {@code executed}, {@code replayed}, {@code conflicted} or {@code failed}
 *       (see {@link StepOutcome});</li>
 *   <li>{@code txstep.step.retries} (counter), tagged {@code sqlstate} with the SQLSTATE of the
 *       transient failure that was retried, or {@code none} (a lost connection, say);</li>
 *   <li>for each datasource whose steps run on an r2dbc-pool (the one it built, or one the
 *       application gave it, such as Spring Boot's), gauges of that pool:
 *       {@code txstep.pool.acquired}, {@code txstep.pool.idle}, {@code txstep.pool.allocated},
 *       {@code txstep.pool.pending}, {@code txstep.pool.max.allocated}, tagged {@code schema}.</li>
 * </ul>
 * Step meters carry no step name: names come from code and are bounded, but a tag per name would
 * still multiply every meter; add tags of your own with {@link #MicrometerStepObserver(MeterRegistry, Tags)}.
 *
 * <pre>{@code
 * DatasourceConfig.builder().url(url)
 *     .observer(new MicrometerStepObserver(meterRegistry))
 *     .build();
 * }</pre>
 *
 * <p>Needs {@code io.micrometer:micrometer-core} on the class path; txstep does not bring it.
 */
public final class MicrometerStepObserver implements StepObserver {

    private final MeterRegistry registry;
    private final Tags tags;
    private final Map<StepOutcome, Counter> steps = new EnumMap<>(StepOutcome.class);
    private final Map<StepOutcome, Timer> durations = new EnumMap<>(StepOutcome.class);

    /**
     * Records into a registry.
     *
     * @param registry where the meters go
     */
    public MicrometerStepObserver(MeterRegistry registry) {
        this(registry, Tags.empty());
    }

    /**
     * Records into a registry, with tags added to every meter (an application or service name, say).
     *
     * @param registry where the meters go
     * @param tags     tags every meter carries
     */
    public MicrometerStepObserver(MeterRegistry registry, Tags tags) {
        this.registry = Objects.requireNonNull(registry, "registry");
        this.tags = Objects.requireNonNull(tags, "tags");
        // Built once: a step's end then costs a map lookup, not a registry search.
        for (StepOutcome outcome : StepOutcome.values()) {
            Tags outcomeTags = this.tags.and("outcome", outcome.name().toLowerCase(Locale.ROOT));
            steps.put(outcome, Counter.builder("txstep.steps").description("Transaction steps that finished")
                    .tags(outcomeTags).register(registry));
            durations.put(outcome, Timer.builder("txstep.step.duration")
                    .description("Time from a step's subscription to its end, retries included")
                    .tags(outcomeTags).register(registry));
        }
    }

    @Override
    public void datasourceCreated(AsyncDatasource datasource) {
        if (!(datasource.connectionFactory() instanceof ConnectionPool pool)) {
            return; // not an r2dbc-pool: nothing to read gauges from
        }
        Tags poolTags = tags.and("schema", datasource.schema());
        gauge("txstep.pool.acquired", "Connections in use by steps", pool, poolTags, PoolMetrics::acquiredSize);
        gauge("txstep.pool.idle", "Idle connections", pool, poolTags, PoolMetrics::idleSize);
        gauge("txstep.pool.allocated", "Open connections, in use or idle", pool, poolTags, PoolMetrics::allocatedSize);
        gauge("txstep.pool.pending", "Steps waiting for a connection", pool, poolTags, PoolMetrics::pendingAcquireSize);
        gauge("txstep.pool.max.allocated", "The pool's maximum size", pool, poolTags, PoolMetrics::getMaxAllocatedSize);
    }

    private void gauge(String name, String description, ConnectionPool pool, Tags poolTags,
            ToIntFunction<PoolMetrics> metric) {
        // A weak reference: a closed datasource's pool may be collected; its gauges then read NaN.
        Gauge.builder(name, pool, p -> p.getMetrics().map(metric::applyAsInt).orElse(0))
                .description(description).tags(poolTags).register(registry);
    }

    @Override
    public void stepRetried(String stepName, String sqlState) {
        registry.counter("txstep.step.retries", tags.and("sqlstate", sqlState == null ? "none" : sqlState)).increment();
    }

    @Override
    public void stepFinished(StepEvent event) {
        steps.get(event.outcome()).increment();
        durations.get(event.outcome()).record(event.duration());
    }
}
