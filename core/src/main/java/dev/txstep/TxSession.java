package dev.txstep;

import io.r2dbc.spi.Connection;
import io.r2dbc.spi.Row;
import io.r2dbc.spi.RowMetadata;
import java.util.Optional;
import java.util.function.BiFunction;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The transaction a step's function runs in: its R2DBC connection with a transaction open at the
 * step's isolation level.
 *
 * <p>Valid only while the step's function runs. Do not commit, roll back or close the connection:
 * the datasource does, and it writes the step's output in the same transaction.
 *
 * <p>Parameters bind by position in the database's own placeholder syntax ({@code $1}, {@code $2}
 * on PostgreSQL and H2). A Java {@code null} cannot say which SQL type it is: pass an
 * {@link io.r2dbc.spi.Parameter}, e.g. {@code Parameters.in(R2dbcType.VARCHAR)}, for a typed null.
 * Every statement runs when its returned publisher is subscribed.
 */
public interface TxSession {

    /**
     * The transaction's connection, for what {@link #execute} and {@link #query} do not cover
     * (batches, fetch sizes, generated keys).
     *
     * @return the connection
     */
    Connection connection();

    /**
     * The key of the step this transaction belongs to.
     *
     * @return the key, or empty when the step runs outside a workflow
     */
    Optional<StepKey> stepKey();

    /**
     * Runs an update, insert, delete or DDL statement.
     *
     * @param sql    the statement
     * @param params the parameters, bound by position
     * @return on subscribe, runs the statement and emits the number of rows it updated; errors with
     *         the driver's {@code R2dbcException} if it fails, or {@link InvalidInputException} for a
     *         null parameter
     */
    Mono<Long> execute(String sql, Object... params);

    /**
     * Runs a query and maps each row.
     *
     * @param sql    the query
     * @param mapper maps one row; runs on the driver's thread and must not block
     * @param params the parameters, bound by position
     * @param <T>    the mapped type
     * @return on subscribe, runs the query and emits each mapped row; errors with the driver's
     *         {@code R2dbcException} if it fails
     */
    <T> Flux<T> query(String sql, BiFunction<Row, RowMetadata, T> mapper, Object... params);
}
