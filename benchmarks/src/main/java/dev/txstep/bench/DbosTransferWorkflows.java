package dev.txstep.bench;

import dev.dbos.transact.txstep.IsolationLevel;
import dev.dbos.transact.txstep.JdbcStepFactory;
import dev.dbos.transact.txstep.StepFactoryOptions;
import dev.dbos.transact.workflow.Workflow;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;

/**
 * The DBOS Java workflow: {@code steps} sequential {@link JdbcStepFactory#txStep} calls, each the
 * benchmark's transaction over JDBC, timed one by one like txstep's steps.
 */
public final class DbosTransferWorkflows implements TransferWorkflows {

    private static final String UPDATE = Transfers.jdbc(Transfers.UPDATE);
    private static final String INSERT = Transfers.jdbc(Transfers.INSERT);

    private final JdbcStepFactory steps;
    private final StepFactoryOptions options;
    private final Recorder recorder;

    /**
     * @param steps     the step factory over the application's data source
     * @param isolation the steps' isolation level
     * @param recorder  where each step's latency goes
     */
    public DbosTransferWorkflows(JdbcStepFactory steps, Isolation isolation, Recorder recorder) {
        this.steps = steps;
        this.options = new StepFactoryOptions("transfer", isolation == Isolation.SERIALIZABLE
                ? IsolationLevel.SERIALIZABLE : IsolationLevel.READ_COMMITTED);
        this.recorder = recorder;
    }

    @Override
    @Workflow(name = "transfers")
    public int transfers(int count) {
        for (int i = 0; i < count; i++) {
            int account = Transfers.randomAccount();
            long amount = Transfers.randomAmount();
            long started = System.nanoTime();
            try {
                steps.txStep((Connection connection) -> transfer(connection, account, amount), options);
            } catch (SQLException e) {
                throw new IllegalStateException(e);
            }
            recorder.completed(System.nanoTime() - started);
        }
        return count;
    }

    private static int transfer(Connection connection, int account, long amount) throws SQLException {
        int updated;
        try (PreparedStatement update = connection.prepareStatement(UPDATE)) {
            update.setLong(1, amount);
            update.setInt(2, account);
            updated = update.executeUpdate();
        }
        try (PreparedStatement insert = connection.prepareStatement(INSERT)) {
            insert.setInt(1, account);
            insert.setLong(2, amount);
            insert.executeUpdate();
        }
        return updated;
    }
}
