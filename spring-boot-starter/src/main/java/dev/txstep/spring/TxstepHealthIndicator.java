package dev.txstep.spring;

import dev.txstep.AsyncDatasource;
import dev.txstep.internal.Dialects;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import org.springframework.boot.health.contributor.AbstractReactiveHealthIndicator;
import org.springframework.boot.health.contributor.Health;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Up when the database answers and txstep's output table is there: one query on
 * {@code datasource_outputs} that reads no row ({@code WHERE 1 = 0}), through the datasource's
 * connection factory. Down with the database's error otherwise — unreachable, or the table
 * missing (not migrated, or another schema). It runs no step, so health checks neither appear in
 * txstep's step meters nor take part in a workflow.
 */
final class TxstepHealthIndicator extends AbstractReactiveHealthIndicator {

    private final ConnectionFactory connectionFactory;
    private final String schema;
    private final String probe;

    TxstepHealthIndicator(AsyncDatasource datasource) {
        super("txstep health check failed");
        this.connectionFactory = datasource.connectionFactory();
        this.schema = datasource.schema();
        // Quoted as the datasource's own statements quote it (MariaDB differs from the others).
        String table = Dialects.of(connectionFactory).qualify(schema, "datasource_outputs");
        this.probe = "SELECT COUNT(*) FROM " + table + " WHERE 1 = 0";
    }

    /**
     * @return on subscribe, borrows a connection, runs the probe and returns the connection; up
     *         with the schema as a detail, or an error the base class turns into down
     */
    @Override
    protected Mono<Health> doHealthCheck(Health.Builder builder) {
        return Mono.usingWhen(connectionFactory.create(), this::probe, Connection::close)
                .then(Mono.fromSupplier(() -> builder.up().withDetail("schema", schema).build()));
    }

    private Mono<Void> probe(Connection connection) {
        return Flux.from(connection.createStatement(probe).execute())
                .concatMap(result -> result.map((row, metadata) -> row.get(0)))
                .then();
    }
}
