package dev.txstep.spring;

import dev.txstep.AsyncDatasource;
import org.springframework.boot.health.contributor.AbstractReactiveHealthIndicator;
import org.springframework.boot.health.contributor.Health;
import reactor.core.publisher.Mono;

/**
 * Up when the database answers and txstep's output table is there ({@link AsyncDatasource#checkReady()}:
 * one query on {@code datasource_outputs} that reads no row). Down with the database's error
 * otherwise — unreachable, or the table missing (not migrated, or another schema). It runs no
 * step, so health checks neither appear in txstep's step meters nor take part in a workflow.
 */
final class TxstepHealthIndicator extends AbstractReactiveHealthIndicator {

    private final AsyncDatasource datasource;

    TxstepHealthIndicator(AsyncDatasource datasource) {
        super("txstep health check failed");
        this.datasource = datasource;
    }

    /**
     * @return on subscribe, runs the datasource's readiness check; up with the schema as a detail,
     *         or an error the base class turns into down
     */
    @Override
    protected Mono<Health> doHealthCheck(Health.Builder builder) {
        return datasource.checkReady()
                .then(Mono.fromSupplier(() -> builder.up().withDetail("schema", datasource.schema()).build()));
    }
}
