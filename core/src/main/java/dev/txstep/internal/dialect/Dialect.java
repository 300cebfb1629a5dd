package dev.txstep.internal.dialect;

import dev.txstep.IsolationLevel;
import dev.txstep.StepKey;
import io.r2dbc.spi.Batch;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.R2dbcException;
import io.r2dbc.spi.Result;
import java.util.List;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Mono;

/**
 * What differs between databases, as questions of syntax and transport: how names are quoted and
 * parameters marked, how a DELETE is limited, whether a statement can travel in the same message
 * as {@code BEGIN} or {@code COMMIT} (and how its values are then written as literals), how a
 * transaction begins at an isolation level, how a connection is handed back, which error codes
 * mean what, and where the migrations and their lock are. A dialect knows no table: the
 * statements on {@code datasource_outputs} are the output store's, written with these answers.
 *
 * <p>Implementations are stateless singletons, registered in {@link Dialects}.
 */
public interface Dialect {

    /**
     * The table {@code table} of {@code schema}, quoted as this database quotes names.
     *
     * @param schema a validated SQL identifier
     * @param table  an unquoted table name
     * @return the qualified name
     */
    default String qualify(String schema, String table) {
        return "\"" + schema + "\"." + table;
    }

    /**
     * The marker of a bound parameter in this driver's syntax.
     *
     * @param index the parameter's position, from 1
     * @return e.g. {@code $1} or {@code ?}
     */
    default String parameter(int index) {
        return "$" + index;
    }

    /**
     * Whether a DELETE limits its own rows (as {@code DELETE … WHERE … LIMIT n}); if not, a
     * batch's keys are selected in a limited subquery.
     *
     * @return true if {@link #rowLimit} may end a DELETE
     */
    default boolean limitsDeleteItself() {
        return false;
    }

    /**
     * The clause that limits a query (or, see {@link #limitsDeleteItself}, a DELETE) to some rows.
     *
     * @param limit the most rows
     * @return the clause, with a leading space
     */
    default String rowLimit(int limit) {
        return " LIMIT " + limit;
    }

    /**
     * The longest workflow id the output table holds here; longer ids are refused before anything
     * is written.
     *
     * @return a length in characters; defaults to {@link StepKey#MAX_WORKFLOW_ID_LENGTH}
     */
    default int maxWorkflowIdLength() {
        return StepKey.MAX_WORKFLOW_ID_LENGTH;
    }

    /**
     * Whether a statement can be sent in the same message as {@code BEGIN} or {@code COMMIT}
     * (an R2DBC {@code Batch} on the simple protocol), saving a round trip. Such a statement
     * carries its values as {@link #literal literals}, since a batch binds no parameters.
     *
     * @return true if {@link #beginStatement} and {@link #literal} may be used
     */
    default boolean sendsStatementsWithTransactionControl() {
        return false;
    }

    /**
     * Sends statements without parameter markers in one message, where
     * {@link #sendsStatementsWithTransactionControl()} holds. The default is an R2DBC {@code Batch}.
     *
     * @param connection the connection
     * @param statements the statements, in order
     * @return on subscribe, sends; one result per statement, in order, or the driver's error
     */
    default Publisher<? extends Result> executeTogether(Connection connection, List<String> statements) {
        Batch batch = connection.createBatch();
        statements.forEach(batch::add);
        return batch.execute();
    }

    /**
     * A text value as a literal that no content can end early, for statements sent with
     * transaction control.
     *
     * @param value the text, or null
     * @return the literal, or {@code NULL}
     * @throws UnsupportedOperationException where {@link #sendsStatementsWithTransactionControl()}
     *                                       is false: values are bound there
     */
    default String literal(String value) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " binds values; it writes no literals");
    }

    /**
     * Whether txstep prepares its own statements on the server once per connection (SQL
     * {@code PREPARE}) and sends {@link #executeStatement executions} of them, with literal
     * arguments, in the messages of {@code BEGIN} and {@code COMMIT}: the server then parses and
     * plans them once per connection instead of once per step. Only where
     * {@link #sendsStatementsWithTransactionControl()} holds.
     *
     * @return true if {@link #prepareStatement}, {@link #executeStatement} and
     *         {@link #isMissingPreparedStatement} apply
     */
    default boolean preparesStatements() {
        return false;
    }

    /**
     * The statement that prepares {@code sql} under {@code name} on the connection unless a
     * statement of that name is prepared there already. What it prepares survives the transaction
     * it runs in.
     *
     * @param name           an SQL identifier, unquoted
     * @param parameterTypes the SQL types of {@code sql}'s parameters, in order
     * @param sql            the statement, with {@link #parameter parameter markers}
     * @return the statement, with no parameter marker of its own (a batch can send it)
     * @throws UnsupportedOperationException where {@link #preparesStatements()} is false
     */
    default String prepareStatement(String name, List<String> parameterTypes, String sql) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " prepares nothing itself");
    }

    /**
     * The statement that executes a prepared statement with arguments given as SQL expressions
     * ({@link #literal literals}, numbers, {@code NULL}).
     *
     * @param name      the prepared statement's name
     * @param arguments one SQL expression per parameter
     * @return the statement
     * @throws UnsupportedOperationException where {@link #preparesStatements()} is false
     */
    default String executeStatement(String name, String arguments) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " prepares nothing itself");
    }

    /**
     * Whether an error says that a prepared statement of that name does not exist on the
     * connection (dropped behind txstep's back, or a connection pooler in between).
     *
     * @param sqlState the error's SQLSTATE
     * @return true if so
     */
    default boolean isMissingPreparedStatement(String sqlState) {
        return false;
    }

    /**
     * The statement that begins a transaction at a level, for a batch that begins and runs a
     * statement in one message.
     *
     * @param level    the isolation level
     * @param readOnly whether the transaction is read-only
     * @return the statement
     * @throws UnsupportedOperationException where {@link #sendsStatementsWithTransactionControl()}
     *                                       is false
     */
    default String beginStatement(IsolationLevel level, boolean readOnly) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " begins through the driver");
    }

    /**
     * The statement that commits, for a batch that ends a transaction and goes on in one message.
     *
     * @return the statement
     * @throws UnsupportedOperationException where {@link #sendsStatementsWithTransactionControl()}
     *                                       is false
     */
    default String commitStatement() {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " commits through the driver");
    }

    /**
     * Begins a transaction at the given level on an idle connection, read-only if asked and the
     * database enforces it.
     *
     * @param connection an idle connection
     * @param level      the isolation level
     * @param readOnly   whether the transaction is read-only
     * @return on subscribe, begins; errors with the driver's exception
     */
    Mono<Void> begin(Connection connection, IsolationLevel level, boolean readOnly);

    /**
     * Rolls back whatever transaction an attempt that ended early (failed or cancelled) left on its
     * connection — including one whose {@code BEGIN} is still on its way to the server, sent just
     * before the attempt ended. The default asks the driver ({@code rollbackTransaction()}).
     *
     * @param connection the attempt's connection, no longer used by the attempt
     * @return on subscribe, rolls back; errors with the driver's exception
     */
    default Mono<Void> rollbackEarlyEnd(Connection connection) {
        return Mono.from(connection.rollbackTransaction());
    }

    /**
     * Returns a connection to its pool. The default closes it.
     *
     * @param connection the connection
     * @return on subscribe, releases
     */
    default Mono<Void> release(Connection connection) {
        return Mono.from(connection.close());
    }

    /**
     * Whether the driver does its work on the calling thread (an embedded database): then a step
     * is subscribed on a worker thread, so that waiting for a lock never holds an event loop.
     *
     * @return true for an in-process driver
     */
    default boolean runsOnCallingThread() {
        return false;
    }

    /**
     * Whether connections reach the database over a network and can be lost: then a driver error
     * without SQLSTATE, or an I/O error, means a lost connection, and a new attempt may succeed. An
     * in-process database has no connection to lose: such errors are its own, and not transient.
     *
     * @return true for a database across a network
     */
    default boolean canLoseConnections() {
        return true;
    }

    /**
     * Whether an error the database reported is a transient conflict between transactions — a
     * serialization failure, a deadlock, a lock timeout — that a new attempt may not meet.
     *
     * @param error an error with an SQLSTATE
     * @return true if running the transaction again may succeed
     */
    boolean isTransientConflict(R2dbcException error);

    /**
     * Whether an error the database reported is a unique-key violation. Defaults to SQLSTATE 23505.
     *
     * @param error an error with an SQLSTATE
     * @return true for a duplicate key
     */
    default boolean isUniqueViolation(R2dbcException error) {
        return "23505".equals(error.getSqlState());
    }

    /**
     * Whether an SQLSTATE reports a lost or refused connection. Defaults to class 08 (connection
     * exception).
     *
     * @param sqlState a non-empty SQLSTATE
     * @return true if a new connection may succeed
     */
    default boolean isLostConnection(String sqlState) {
        return sqlState.startsWith("08");
    }

    /**
     * Whether an SQLSTATE says the database refused what was sent, so that a transaction it was
     * committing certainly did not commit. Defaults to the standard classes that mean "not done"
     * (feature not supported, cardinality, data exception, integrity violation, invalid
     * transaction state, invalid authorization, transaction rollback but 40003 "statement
     * completion unknown", syntax or access rule, check option, insufficient resources, program
     * limit).
     *
     * @param sqlState a non-empty SQLSTATE
     * @return true for a certain refusal
     */
    default boolean isRefusal(String sqlState) {
        return StandardStates.REFUSAL_CLASSES.contains(sqlState.substring(0, Math.min(2, sqlState.length())))
                && !sqlState.equals("40003");
    }

    /**
     * The folder under {@code db/migration/} holding this database's migrations.
     *
     * @return the folder's name
     */
    String migrationFolder();

    /**
     * The statement that takes the session-level lock all of txstep's migrations share, so that
     * processes creating the same schema at once do it one after the other.
     *
     * @return the statement, or null where the database is in-process (a JVM lock is enough)
     */
    default String migrationLock() {
        return null;
    }
}
