package dev.txstep;

import io.r2dbc.spi.Connection;
import io.r2dbc.spi.Row;
import io.r2dbc.spi.RowMetadata;
import java.util.List;
import java.util.Optional;
import java.util.function.BiFunction;

/**
 * The blocking view of a step's transaction, for functions run by {@link BlockingDatasource}.
 * It mirrors {@link TxSession}; each method blocks the calling thread until the database answers.
 * Valid only while the step's function runs, on the thread that runs it.
 */
public interface BlockingTxSession {

    /**
     * @return the transaction's R2DBC connection (do not commit, roll back or close it)
     */
    Connection connection();

    /**
     * @return the key of the step, or empty outside a workflow
     */
    Optional<StepKey> stepKey();

    /**
     * Runs an update, insert, delete or DDL statement and waits for it.
     *
     * @param sql    the statement
     * @param params the parameters, bound by position ({@code $1}, ...)
     * @return the number of rows updated
     * @throws io.r2dbc.spi.R2dbcException if the statement fails
     */
    long execute(String sql, Object... params);

    /**
     * Runs a query and waits for all its rows.
     *
     * @param sql    the query
     * @param mapper maps one row
     * @param params the parameters, bound by position
     * @param <T>    the mapped type
     * @return the mapped rows
     * @throws io.r2dbc.spi.R2dbcException if the query fails
     */
    <T> List<T> query(String sql, BiFunction<Row, RowMetadata, T> mapper, Object... params);
}
