package dev.txstep.internal.dialect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.txstep.testing.TestDatabases;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactories;
import io.r2dbc.spi.ConnectionFactory;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * An attempt that ends early (cancelled, failed) is rolled back while a message that begins its
 * transaction may still be on its way: r2dbc-postgresql's own {@code rollbackTransaction()} sends
 * nothing until it has read that message's answer, so the connection would go back to its pool
 * and then be inside a transaction on the server. The dialect's rollback must close it.
 */
class PostgresEarlyEndRollbackTest {

    private final Dialect dialect = Dialects.forDatabase("PostgreSQL");

    @Test
    void aTransactionWhoseBeginIsStillUnansweredIsRolledBack() throws InterruptedException {
        ConnectionFactory factory = ConnectionFactories.get(TestDatabases.postgresR2dbcUrl());
        Connection connection = Mono.from(factory.create()).block(Duration.ofSeconds(30));
        Connection observer = Mono.from(factory.create()).block(Duration.ofSeconds(30));
        try {
            int pid = single(connection, "SELECT pg_backend_pid()", Integer.class);
            // Begins, then keeps the server busy so that the answer is not read before the rollback.
            Mono<Void> begins = Flux.from(connection.createStatement("BEGIN; SELECT pg_sleep(0.3)").execute())
                    .concatMap(result -> Flux.from(result.map((row, meta) -> 1))).then().cache();
            begins.subscribe();
            Thread.sleep(50);
            assertTrue(connection.isAutoCommit(), "the driver has not read the BEGIN's answer yet");

            dialect.rollbackEarlyEnd(connection).block(Duration.ofSeconds(10));
            begins.block(Duration.ofSeconds(10));

            assertTrue(connection.isAutoCommit(), "the driver's last answer says no transaction is open");
            assertEquals("idle", single(observer, "SELECT state FROM pg_stat_activity WHERE pid = " + pid, String.class),
                    "the server's session is idle, not idle in transaction");
        } finally {
            Mono.from(connection.close()).block(Duration.ofSeconds(10));
            Mono.from(observer.close()).block(Duration.ofSeconds(10));
        }
    }

    private static <T> T single(Connection connection, String sql, Class<T> type) {
        return Flux.from(connection.createStatement(sql).execute())
                .concatMap(result -> Flux.from(result.map((row, meta) -> row.get(0, type))))
                .blockLast(Duration.ofSeconds(10));
    }
}
