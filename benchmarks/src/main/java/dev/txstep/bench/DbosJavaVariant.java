package dev.txstep.bench;

import com.zaxxer.hikari.HikariDataSource;
import dev.dbos.transact.DBOS;
import dev.dbos.transact.config.DBOSConfig;
import dev.dbos.transact.context.WorkflowOptions;
import dev.dbos.transact.txstep.JdbcStepFactory;

/**
 * Variant 5: DBOS Java ({@code dev.dbos:transact}) {@code JdbcStepFactory.txStep} inside DBOS
 * workflows, over a HikariCP pool of the same size as the R2DBC variants'. As txstep's blocking
 * variant, a fixed pool of {@code concurrency} threads each runs workflows of
 * {@code stepsPerWorkflow} steps under fresh ids; a workflow runs on the calling thread
 * ({@code WorkflowOptions.setContext()} and a direct call of the proxy), like txstep's.
 *
 * <p>Each measurement gets its own {@code DBOS} instance (launched before the timed window) so its
 * system-database pool can be sized for the setting ({@link Setting#dbosSystemPoolSize()}), and its
 * connections are released while other variants run. Outputs go to
 * {@link BenchDatabase#DBOS_JAVA_SCHEMA}; DBOS's system database is
 * {@link BenchDatabase#DBOS_JAVA_SYSTEM_DB}.
 */
final class DbosJavaVariant extends InProcessVariant {

    private final Postgres postgres;
    private final int stepsPerWorkflow;
    private final WorkflowIds ids;

    DbosJavaVariant(Postgres postgres, int stepsPerWorkflow, String runId) {
        this.postgres = postgres;
        this.stepsPerWorkflow = stepsPerWorkflow;
        this.ids = new WorkflowIds(runId, name());
    }

    @Override
    public String name() {
        return "dbos-java";
    }

    @Override
    public String description() {
        return "DBOS Java " + DBOS.version() + " JdbcStepFactory.txStep over HikariCP, first execution,"
                + " workflows of " + stepsPerWorkflow + " steps from a fixed thread pool";
    }

    @Override
    Load open(Setting setting, Recorder recorder) {
        HikariDataSource app = HikariPools.open(postgres, postgres.database(), setting.poolSize(), "bench-app");
        HikariDataSource system = HikariPools.open(postgres, BenchDatabase.DBOS_JAVA_SYSTEM_DB,
                setting.dbosSystemPoolSize(), "bench-dbos-system");
        DBOS dbos = new DBOS(DBOSConfig.defaults("txstep-bench")
                .withDataSource(system)
                .withAdminServer(false));
        TransferWorkflows workflows;
        try {
            JdbcStepFactory steps = new JdbcStepFactory(dbos, app, BenchDatabase.DBOS_JAVA_SCHEMA);
            workflows = dbos.registerProxy(TransferWorkflows.class,
                    new DbosTransferWorkflows(steps, setting.isolation(), recorder));
            dbos.launch();
        } catch (RuntimeException e) {
            close(dbos, app, system);
            throw e;
        }
        ThreadWorkers workers = new ThreadWorkers(setting.concurrency(), () -> {
            try (WorkflowOptions.Guard ignored = new WorkflowOptions(ids.next()).setContext()) {
                workflows.transfers(stepsPerWorkflow);
            }
        }, recorder, "bench-dbos");
        return Load.of(workers, () -> "system pool " + setting.dbosSystemPoolSize(), () -> close(dbos, app, system));
    }

    private static void close(DBOS dbos, HikariDataSource app, HikariDataSource system) {
        try {
            dbos.shutdown();
        } finally {
            app.close();
            system.close();
        }
    }
}
