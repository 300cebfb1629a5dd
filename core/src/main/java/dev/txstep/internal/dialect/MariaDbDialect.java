package dev.txstep.internal.dialect;

import dev.txstep.IsolationLevel;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.Option;
import io.r2dbc.spi.R2dbcException;
import io.r2dbc.spi.TransactionDefinition;
import reactor.core.publisher.Mono;

/**
 * MariaDB (and MySQL's protocol, through r2dbc-mariadb). A schema is a database here; names are
 * quoted with backticks, parameters marked with {@code ?}.
 *
 * <p>The isolation level is set on the session before each begin, because MariaDB has no way to
 * read the level of the running transaction other than the session's ({@code @@tx_isolation}).
 */
enum MariaDbDialect implements Dialect {

    INSTANCE;

    /** InnoDB's 3072-byte key limit, less the step id's 4 bytes, in 4-byte characters. */
    private static final int MAX_WORKFLOW_ID_LENGTH = 767;

    /** ER_LOCK_WAIT_TIMEOUT: reported with the catch-all SQLSTATE HY000, so known by its code. */
    private static final int LOCK_WAIT_TIMEOUT = 1205;
    /** ER_LOCK_DEADLOCK (SQLSTATE 40001). */
    private static final int DEADLOCK = 1213;
    /** ER_DUP_ENTRY: its SQLSTATE, 23000, covers every integrity violation. */
    private static final int DUPLICATE_KEY = 1062;

    /** START TRANSACTION READ ONLY; the level was set on the session just before. */
    private static final TransactionDefinition READ_ONLY = new TransactionDefinition() {
        @Override
        @SuppressWarnings("unchecked")
        public <T> T getAttribute(Option<T> option) {
            return option.equals(TransactionDefinition.READ_ONLY) ? (T) Boolean.TRUE : null;
        }
    };

    @Override
    public String qualify(String schema, String table) {
        return "`" + schema + "`." + table;
    }

    @Override
    public String parameter(int index) {
        return "?";
    }

    /** MariaDB refuses LIMIT in an IN subquery, but limits a single-table DELETE itself. */
    @Override
    public boolean limitsDeleteItself() {
        return true;
    }

    @Override
    public int maxWorkflowIdLength() {
        return MAX_WORKFLOW_ID_LENGTH;
    }

    @Override
    public Mono<Void> begin(Connection connection, IsolationLevel level, boolean readOnly) {
        return SessionLevel.setThenBegin(connection, "SET SESSION TRANSACTION ISOLATION LEVEL " + level.sql(),
                readOnly ? READ_ONLY : null);
    }

    @Override
    public boolean isTransientConflict(R2dbcException error) {
        return "40001".equals(error.getSqlState()) || error.getErrorCode() == DEADLOCK
                || error.getErrorCode() == LOCK_WAIT_TIMEOUT;
    }

    @Override
    public boolean isUniqueViolation(R2dbcException error) {
        return "23000".equals(error.getSqlState()) && error.getErrorCode() == DUPLICATE_KEY;
    }

    @Override
    public String migrationFolder() {
        return "mariadb";
    }

    /** A named lock, waited for up to ten minutes; released when the session ends. */
    @Override
    public String migrationLock() {
        return "SELECT GET_LOCK('txstep_migration', 600)";
    }
}
