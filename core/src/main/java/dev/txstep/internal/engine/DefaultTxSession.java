package dev.txstep.internal.engine;

import dev.txstep.InvalidInputException;
import dev.txstep.StepKey;
import dev.txstep.TxSession;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.Result;
import io.r2dbc.spi.Row;
import io.r2dbc.spi.RowMetadata;
import io.r2dbc.spi.Statement;
import java.util.Optional;
import java.util.function.BiFunction;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** The session handed to a step's function. */
final class DefaultTxSession implements TxSession {

    private final Connection connection;
    private final Optional<StepKey> key;

    DefaultTxSession(Connection connection, StepKey key) {
        this.connection = connection;
        this.key = Optional.ofNullable(key);
    }

    @Override
    public Connection connection() {
        return connection;
    }

    @Override
    public Optional<StepKey> stepKey() {
        return key;
    }

    @Override
    public Mono<Long> execute(String sql, Object... params) {
        return Flux.defer(() -> statement(sql, params).execute())
                .concatMap(Result::getRowsUpdated)
                .reduce(0L, Long::sum);
    }

    @Override
    public <T> Flux<T> query(String sql, BiFunction<Row, RowMetadata, T> mapper, Object... params) {
        if (mapper == null) {
            return Flux.error(new InvalidInputException("row mapper must not be null"));
        }
        return Flux.defer(() -> statement(sql, params).execute())
                .concatMap(result -> result.map((row, meta) -> mapper.apply(new CheckedRow(row, sql), meta)));
    }

    private Statement statement(String sql, Object[] params) {
        if (sql == null || sql.isBlank()) {
            throw new InvalidInputException("SQL must not be null or blank");
        }
        Statement statement = connection.createStatement(sql);
        if (params != null) {
            for (int i = 0; i < params.length; i++) {
                if (params[i] == null) {
                    throw new InvalidInputException("parameter $" + (i + 1) + " of '" + sql + "' is null:"
                            + " pass io.r2dbc.spi.Parameters.in(R2dbcType.X) for a typed null");
                }
                statement.bind(i, params[i]);
            }
        }
        return statement;
    }
}
