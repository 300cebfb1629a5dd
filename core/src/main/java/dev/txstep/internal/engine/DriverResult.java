package dev.txstep.internal.engine;

import io.r2dbc.spi.Readable;
import io.r2dbc.spi.Result;
import io.r2dbc.spi.Row;
import io.r2dbc.spi.RowMetadata;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.Predicate;
import org.reactivestreams.Publisher;

/**
 * A result of a step's statement whose reads reach the driver with the {@link DriverContext}, like
 * the statement itself: a result's rows and counts are decoded by the driver when they are read,
 * not when the statement is executed.
 */
final class DriverResult implements Result {

    private final Result result;
    private final GatedConnection connection;

    DriverResult(Result result, GatedConnection connection) {
        this.result = result;
        this.connection = connection;
    }

    @Override
    public Publisher<Long> getRowsUpdated() {
        return connection.toDriver(result.getRowsUpdated());
    }

    @Override
    public <T> Publisher<T> map(BiFunction<Row, RowMetadata, ? extends T> mappingFunction) {
        return connection.toDriver(result.map(mappingFunction));
    }

    @Override
    public <T> Publisher<T> map(Function<? super Readable, ? extends T> mappingFunction) {
        return connection.toDriver(result.map(mappingFunction));
    }

    @Override
    public Result filter(Predicate<Segment> filter) {
        return new DriverResult(result.filter(filter), connection);
    }

    @Override
    public <T> Publisher<T> flatMap(Function<Segment, ? extends Publisher<? extends T>> mappingFunction) {
        return connection.toDriver(result.flatMap(mappingFunction));
    }
}
