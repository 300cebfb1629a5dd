package dev.txstep.internal.dialect;

import io.r2dbc.spi.Connection;
import io.r2dbc.spi.Result;
import io.r2dbc.spi.TransactionDefinition;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Begins a transaction on a database whose driver does not pass the isolation level on (r2dbc-h2
 * ignores it) or whose level can only be read back from the session (MariaDB): the level is set
 * on the session first, then the transaction begins. Every step sets it, so none inherits
 * another's level.
 */
final class SessionLevel {

    private SessionLevel() {
    }

    /**
     * @param connection an idle connection
     * @param setLevel   the statement that sets the session's level
     * @param definition what to begin with, or null for the driver's plain begin
     * @return on subscribe, sets the level, then begins
     */
    static Mono<Void> setThenBegin(Connection connection, String setLevel, TransactionDefinition definition) {
        Publisher<Void> begin = definition == null ? connection.beginTransaction()
                : connection.beginTransaction(definition);
        return Flux.from(connection.createStatement(setLevel).execute())
                .concatMap(Result::getRowsUpdated)
                .then(Mono.from(begin));
    }
}
