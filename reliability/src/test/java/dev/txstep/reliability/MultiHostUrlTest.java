package dev.txstep.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.txstep.AsyncDatasource;
import dev.txstep.DatasourceConfig;
import dev.txstep.DatasourceOptions;
import dev.txstep.reactor.Workflow;
import dev.txstep.spi.JdbcCoordinates;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import reactor.core.publisher.Flux;

/**
 * Multi-host URLs: a datasource configured with r2dbc-postgresql's fail-over URL
 * ({@code r2dbc:postgresql:failover://standby,primary/db?targetServerType=primary}) migrates and
 * writes on the primary even though the standby is named first, and after the primary is killed
 * and the standby promoted, the same datasource writes on the new primary. Each step reports the
 * port of the server it ran on ({@code inet_server_port()}) and whether that server is a standby
 * ({@code pg_is_in_recovery()}); rows are counted on the primary.
 */
class MultiHostUrlTest {

    @Test
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    void aMultiHostDatasourceAlwaysWritesToTheCurrentPrimary() throws Exception {
        try (ReplicatedPostgres cluster = ReplicatedPostgres.start(ReplicatedPostgres.Replication.ASYNCHRONOUS)) {
            String url = cluster.failoverUrlStandbyFirst();
            assertEquals(jdbcHosts(url) + "/postgres?targetServerType=primary", JdbcCoordinates.derivedFrom(url).url(),
                    "the migrations' JDBC URL names the same hosts and asks for the primary");
            assertEquals(JdbcCoordinates.derivedFrom(url).url(), JdbcCoordinates.derivedFrom(url.replace("r2dbc:postgresql:failover:",
                    "r2dbc:pool:postgresql:failover:")).url(), "an r2dbc:pool: URL derives the same JDBC URL");

            String schema = "multihost_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
            // The migration connects through the JDBC URL derived from the multi-host URL: on the
            // standby it would fail (read-only).
            AsyncDatasource ds = AsyncDatasource.create(DatasourceConfig.builder().url(url).schema(schema)
                    .maxPoolSize(4).build()).block(Duration.ofSeconds(60));
            try {
                cluster.execOnPrimary("CREATE TABLE \"" + schema + "\".effects (step int NOT NULL, port int NOT NULL)");
                int firstPrimary = ReplicatedPostgres.port(cluster.primaryUrl());
                assertEquals(List.of(firstPrimary), run(ds, schema, "before", 20), "every step ran on the primary");

                cluster.killPrimary();
                cluster.promoteStandby();
                int secondPrimary = ReplicatedPostgres.port(cluster.primaryUrl());
                assertEquals(List.of(secondPrimary), run(ds, schema, "after", 20),
                        "after the failover, every step ran on the promoted standby");

                assertEquals(20, cluster.countOnPrimary("SELECT COUNT(*) FROM \"" + schema + "\".effects WHERE port = " + secondPrimary));
                assertEquals(20, cluster.countOnPrimary("SELECT COUNT(*) FROM \"" + schema + "\".datasource_outputs"
                        + " WHERE workflow_id = 'after'"));
                Report.of("multi-host URL").put("stepsBeforeFailover", 20).put("stepsAfterFailover", 20)
                        .put("primaryPorts", List.of(firstPrimary, secondPrimary)).publish();
            } finally {
                ds.close().block(Duration.ofSeconds(30));
            }
        }
    }

    /** Runs a workflow of recorded steps that write an effect; returns the distinct ports they ran on. */
    private static List<Integer> run(AsyncDatasource ds, String schema, String workflowId, int steps) {
        return Workflow.run(workflowId, Flux.range(0, steps).concatMap(i -> ds.runTxStepAsync(
                        DatasourceOptions.named("write-" + i), Integer.class, tx -> tx.query(
                                "INSERT INTO \"" + schema + "\".effects (step, port) SELECT $1, inet_server_port()"
                                        + " WHERE NOT pg_is_in_recovery() RETURNING port",
                                (row, meta) -> row.get(0, Integer.class), i).single()))
                        .distinct().collectList())
                .block(Duration.ofMinutes(2));
    }

    private static String jdbcHosts(String r2dbcUrl) {
        return "jdbc:postgresql://" + r2dbcUrl.substring(r2dbcUrl.indexOf('@') + 1, r2dbcUrl.lastIndexOf('/'));
    }
}
