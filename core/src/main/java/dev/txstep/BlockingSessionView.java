package dev.txstep;

import io.r2dbc.spi.Connection;
import io.r2dbc.spi.Row;
import io.r2dbc.spi.RowMetadata;
import java.util.List;
import java.util.Optional;
import java.util.function.BiFunction;

/** The blocking view of a {@link TxSession}, used on the worker thread that runs a blocking step. */
final class BlockingSessionView implements BlockingTxSession {

    private final TxSession session;

    BlockingSessionView(TxSession session) {
        this.session = session;
    }

    @Override
    public Connection connection() {
        return session.connection();
    }

    @Override
    public Optional<StepKey> stepKey() {
        return session.stepKey();
    }

    @Override
    public long execute(String sql, Object... params) {
        BlockingGuard.check("BlockingTxSession.execute");
        Long updated = session.execute(sql, params).block();
        return updated == null ? 0L : updated;
    }

    @Override
    public <T> List<T> query(String sql, BiFunction<Row, RowMetadata, T> mapper, Object... params) {
        BlockingGuard.check("BlockingTxSession.query");
        return session.query(sql, mapper, params).collectList().block();
    }
}
