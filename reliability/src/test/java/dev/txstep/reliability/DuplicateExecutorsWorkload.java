package dev.txstep.reliability;

import dev.txstep.AsyncDatasource;
import dev.txstep.BlockingDatasource;
import dev.txstep.DatasourceOptions;
import dev.txstep.IsolationLevel;
import dev.txstep.reactor.Workflow;
import dev.txstep.testing.TestDatabases;
import dev.txstep.testing.TestSchema;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The workflow every duplicate executor runs, in the test's JVM and in child JVMs alike: {@code n}
 * steps, step {@code i} inserting one effect row keyed by a fresh random UUID and incrementing a
 * counter, and returning that UUID. A step that ran twice would leave two effect rows and two
 * increments, and two executors that each ran it would return different UUIDs: the output tells
 * whose execution it is.
 *
 * <p>Tables, in the scenario's schema: {@code effects(id PRIMARY KEY, step)} with no constraint on
 * {@code step} (a second effect of a step must be countable, not refused) and {@code counter}, one
 * row {@code id = 1}.
 */
final class DuplicateExecutorsWorkload {

    private final String schema;
    private final IsolationLevel level;
    /** Every call of a step's function, committed or not: how hard the executors raced. */
    private final AtomicInteger functionRuns = new AtomicInteger();

    DuplicateExecutorsWorkload(String schema, IsolationLevel level) {
        this.schema = schema;
        this.level = level;
    }

    /** Creates the effect and counter tables (the schema exists: the datasource's migration made it). */
    static void createTables(TestSchema db) {
        db.exec("CREATE TABLE " + db.q("effects") + " (id VARCHAR(36) PRIMARY KEY, step INT NOT NULL)");
        db.createCounter();
    }

    /** How many times a step function of this workload was called in this JVM. */
    int functionRuns() {
        return functionRuns.get();
    }

    /** One execution of the workflow per subscription; emits the steps' outputs in step order. */
    Mono<List<String>> run(AsyncDatasource ds, String workflowId, int steps) {
        return Workflow.run(workflowId, Flux.range(0, steps).concatMap(i -> step(ds, i)).collectList());
    }

    /** The same workflow through the blocking facade, on the calling thread. */
    List<String> runBlocking(BlockingDatasource ds, String workflowId, int steps) {
        return Workflow.runBlocking(workflowId, () -> {
            List<String> outputs = new ArrayList<>(steps);
            for (int i = 0; i < steps; i++) {
                int step = i;
                outputs.add(ds.runTxStep(options(step), tx -> {
                    String id = newEffectId();
                    tx.execute(insertEffect(), id, step);
                    tx.execute(increment());
                    return id;
                }));
            }
            return outputs;
        });
    }

    private Mono<String> step(AsyncDatasource ds, int step) {
        return ds.runTxStepAsync(options(step), String.class, tx -> {
            String id = newEffectId();
            return tx.execute(insertEffect(), id, step)
                    .then(tx.execute(increment()))
                    .thenReturn(id);
        });
    }

    /** Named per position, so a replay that reached the wrong step would fail as non-determinism. */
    private DatasourceOptions options(int step) {
        return new DatasourceOptions("effect-" + step, level);
    }

    private String newEffectId() {
        functionRuns.incrementAndGet();
        return UUID.randomUUID().toString();
    }

    private String insertEffect() {
        return "INSERT INTO \"" + schema + "\".effects (id, step) VALUES ($1, $2)";
    }

    private String increment() {
        return "UPDATE \"" + schema + "\".counter SET n = n + 1 WHERE id = 1";
    }

    /** The committed effect ids, in step order (over JDBC): what every executor must have returned. */
    static List<String> committedEffects(TestSchema db) throws SQLException {
        List<String> ids = new ArrayList<>();
        try (Connection c = TestDatabases.jdbc(db.url()); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT id FROM " + db.q("effects") + " ORDER BY step, id")) {
            while (rs.next()) {
                ids.add(rs.getString(1));
            }
        }
        return ids;
    }
}
