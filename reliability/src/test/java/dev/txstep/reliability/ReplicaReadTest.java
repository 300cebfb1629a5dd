package dev.txstep.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.txstep.AsyncDatasource;
import dev.txstep.DatasourceConfig;
import dev.txstep.DatasourceOptions;
import dev.txstep.IsolationLevel;
import dev.txstep.reactor.Workflow;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import reactor.core.publisher.Mono;

/**
 * Read-only steps on a replica, against a real streaming standby: with
 * {@code Config.replicaUrl(standby)}, a read-only step runs on the standby (it reports the
 * standby's port and that it is in recovery) and sees a row only once the standby has replayed it;
 * while the standby's replay is paused, it does not see a step's committed row (the staleness a
 * replica read may see), and a recorded step on the same datasource still commits on the primary.
 * Rows are counted on the primary.
 */
class ReplicaReadTest {

    @Test
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    void readOnlyStepsReadTheStandbyAndRecordedStepsCommitOnThePrimary() throws Exception {
        try (ReplicatedPostgres cluster = ReplicatedPostgres.start(ReplicatedPostgres.Replication.ASYNCHRONOUS)) {
            String schema = "replica_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
            AsyncDatasource ds = AsyncDatasource.create(DatasourceConfig.builder().url(cluster.primaryUrl())
                    .replicaUrl(cluster.standbyUrl()).schema(schema).maxPoolSize(2).build()).block(Duration.ofSeconds(60));
            try {
                cluster.execOnPrimary("CREATE TABLE \"" + schema + "\".items (id int PRIMARY KEY)");
                int primaryPort = ReplicatedPostgres.port(cluster.primaryUrl());
                int standbyPort = ReplicatedPostgres.port(cluster.standbyUrl());

                // Replayed: the read-only step, on the standby, sees the committed row.
                assertEquals(List.of(primaryPort, 0), Workflow.run("w1", insert(ds, schema, 1)).block());
                cluster.awaitStandbyCaughtUp();
                assertEquals(List.of(standbyPort, 1, 1), Workflow.run("w2", read(ds, schema, 1)).block(),
                        "a read-only step ran on the standby (in recovery) and saw the replicated row");

                // Replay paused: a recorded step still commits on the primary; the replica read is stale.
                try (Connection standby = cluster.standbyJdbc(); Statement s = standby.createStatement()) {
                    s.execute("SELECT pg_wal_replay_pause()");
                    assertEquals(List.of(primaryPort, 0), Workflow.run("w3", insert(ds, schema, 2)).block(),
                            "the recorded step committed on the primary");
                    assertEquals(1, cluster.countOnPrimary("SELECT COUNT(*) FROM \"" + schema + "\".items WHERE id = 2"));
                    assertEquals(List.of(standbyPort, 1, 0), Workflow.run("w4", read(ds, schema, 2)).block(),
                            "while the standby lags, the read-only step does not see the new row");
                    s.execute("SELECT pg_wal_replay_resume()");
                }
                cluster.awaitStandbyCaughtUp();
                assertEquals(List.of(standbyPort, 1, 1), Workflow.run("w5", read(ds, schema, 2)).block(),
                        "once replicated, it does");
                // Recorded: w1 and w3 (one row each); read-only steps recorded nothing.
                assertEquals(2, cluster.countOnPrimary("SELECT COUNT(*) FROM \"" + schema + "\".datasource_outputs"));
                Report.of("read-only steps on a replica").put("primaryPort", primaryPort).put("standbyPort", standbyPort)
                        .put("staleReads", 1).publish();
            } finally {
                ds.close().block(Duration.ofSeconds(30));
            }
        }
    }

    /** A recorded step inserting row {@code id}; returns the port it ran on and whether that is in recovery (0/1). */
    private static Mono<List<Integer>> insert(AsyncDatasource ds, String schema, int id) {
        return ds.runTxStepAsync(DatasourceOptions.named("insert"), tx -> tx.query(
                "INSERT INTO \"" + schema + "\".items (id) VALUES ($1) RETURNING inet_server_port(),"
                        + " pg_is_in_recovery()::int",
                (row, meta) -> List.of(row.get(0, Integer.class), row.get(1, Integer.class)), id).single());
    }

    /** A read-only step: the port, whether in recovery (0/1), and how many rows {@code id} it sees. */
    private static Mono<List<Integer>> read(AsyncDatasource ds, String schema, int id) {
        // REPEATABLE READ: PostgreSQL refuses SERIALIZABLE (the default) on a hot standby.
        return ds.runTxStepAsync(new DatasourceOptions("read", IsolationLevel.REPEATABLE_READ).asReadOnly(), tx -> tx.query(
                "SELECT inet_server_port(), pg_is_in_recovery()::int, (SELECT COUNT(*)::int FROM \"" + schema
                        + "\".items WHERE id = $1)",
                (row, meta) -> List.of(row.get(0, Integer.class), row.get(1, Integer.class), row.get(2, Integer.class)),
                id).single());
    }
}
