package dev.txstep.internal.engine;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.txstep.internal.dialect.Dialect;
import dev.txstep.internal.dialect.Dialects;
import io.r2dbc.spi.R2dbcNonTransientResourceException;
import io.r2dbc.spi.R2dbcTimeoutException;
import java.io.IOException;
import java.nio.channels.ClosedByInterruptException;
import org.junit.jupiter.api.Test;

/**
 * What counts as transient depends on whether the database is across a network. A server's
 * driver reports a lost connection without SQLSTATE, and a new connection may well succeed. H2 runs
 * in-process: there is no connection to lose, and an I/O error is its file's (a thread interrupted
 * inside H2 closes the file channel), which running the step again does not mend — only what H2
 * reports as a transient conflict is retried there.
 */
class FailuresTest {

    private static final Dialect POSTGRESQL = Dialects.forDatabase("PostgreSQL");
    private static final Dialect MARIADB = Dialects.forDatabase("MariaDB");
    private static final Dialect H2 = Dialects.forDatabase("H2");

    private static final Throwable CHANNEL_CLOSED = new R2dbcNonTransientResourceException(
            "Async resource cleanup failed", new ClosedByInterruptException());

    @Test
    void aDriverErrorWithoutSqlStateIsALostConnectionOnAServer() {
        assertTrue(Failures.isRetryable(CHANNEL_CLOSED, POSTGRESQL));
        assertTrue(Failures.isRetryable(new IOException("Connection reset"), MARIADB));
    }

    @Test
    void anInProcessDatabaseRetriesOnlyWhatItReportsAsTransient() {
        assertFalse(Failures.isRetryable(CHANNEL_CLOSED, H2));
        assertFalse(Failures.isRetryable(new IOException("Reading from file failed"), H2));
        assertFalse(Failures.isRetryable(new R2dbcTimeoutException("no SQLSTATE"), H2));
        assertTrue(Failures.isRetryable(new R2dbcTimeoutException("lock timeout", "HYT00"), H2));
        assertTrue(Failures.isRetryable(new R2dbcTimeoutException("deadlock", "40001"), H2));
    }
}
