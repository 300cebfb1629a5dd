package dev.txstep.internal.dialect;

import dev.txstep.IsolationLevel;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.R2dbcException;
import io.r2dbc.spi.Result;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * PostgreSQL. r2dbc-postgresql sends a statement with bound parameters as an extended-protocol
 * exchange of its own and writes nothing more on the connection until that exchange is answered,
 * so a statement that is to share the round trip of {@code BEGIN} or {@code COMMIT} (one
 * simple-protocol query) carries its values as literals, dollar-quoted with a random tag that does
 * not occur in the value — which is safe whatever {@code standard_conforming_strings} says.
 */
enum PostgresDialect implements Dialect {

    INSTANCE;

    /** An arbitrary constant: the advisory lock every txstep migration takes. */
    private static final long MIGRATION_LOCK_KEY = 0x7478_7374_6570_0001L;

    @Override
    public boolean sendsStatementsWithTransactionControl() {
        return true;
    }

    /**
     * One R2DBC statement holding them all, joined by semicolons: r2dbc-postgresql sends a statement
     * without parameter markers as one simple-protocol query and emits a result per statement in it.
     * A {@code Batch} would do the same after scanning each statement for markers as it is added and
     * the joined text once more: for the output insert, one full scan of the output per step saved.
     */
    @Override
    public Publisher<? extends Result> executeTogether(Connection connection, List<String> statements) {
        return connection.createStatement(String.join("; ", statements)).execute();
    }

    /**
     * The driver's rollback where the driver knows a transaction is open, else an explicit
     * {@code ROLLBACK}: r2dbc-postgresql's {@code rollbackTransaction()} sends nothing while the
     * connection's last answer said "idle", which is the case between writing a message that
     * begins (a {@code BEGIN}, or the first step's {@code BEGIN …; SELECT …}) and reading its
     * answer. A step cancelled in that window went back to the pool and then began on the server,
     * and the next borrower's {@code BEGIN} failed with 25001. The driver writes the explicit
     * {@code ROLLBACK} after whatever the attempt sent; with no transaction open the server only
     * warns. (The driver's own rollback is kept where it applies: it also resets the isolation
     * level the driver reports.)
     */
    @Override
    public Mono<Void> rollbackEarlyEnd(Connection connection) {
        if (!connection.isAutoCommit()) {
            return Mono.from(connection.rollbackTransaction());
        }
        return Flux.from(connection.createStatement("ROLLBACK").execute()).concatMap(Result::getRowsUpdated).then();
    }

    /** A dollar-quoted literal: the tag is random and checked not to occur in the value. */
    @Override
    public String literal(String value) {
        if (value == null) {
            return "NULL";
        }
        String tag;
        do {
            tag = "$t" + Long.toHexString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE) + "$";
        } while (value.contains(tag));
        return tag + value + tag;
    }

    @Override
    public boolean preparesStatements() {
        return true;
    }

    /**
     * A {@code DO} block that runs the {@code PREPARE} unless {@code pg_prepared_statements} lists
     * the name: a batch cannot carry the {@code PREPARE} itself, whose parameter markers
     * r2dbc-postgresql would take for its own, and a duplicate would fail.
     */
    @Override
    public String prepareStatement(String name, List<String> parameterTypes, String sql) {
        String prepare = "PREPARE " + name + " (" + String.join(", ", parameterTypes) + ") AS " + sql;
        return "DO " + literal("BEGIN IF NOT EXISTS (SELECT FROM pg_prepared_statements WHERE name = "
                + quoted(name) + ") THEN EXECUTE " + quoted(prepare) + "; END IF; END");
    }

    /** A standard single-quoted string literal (for PL/pgSQL text inside a dollar-quoted body). */
    private static String quoted(String text) {
        return "'" + text.replace("'", "''") + "'";
    }

    @Override
    public String executeStatement(String name, String arguments) {
        return "EXECUTE " + name + "(" + arguments + ")";
    }

    /** 26000, invalid SQL statement name: what EXECUTE of an unknown name reports. */
    @Override
    public boolean isMissingPreparedStatement(String sqlState) {
        return "26000".equals(sqlState);
    }

    @Override
    public String beginStatement(IsolationLevel level, boolean readOnly) {
        return "BEGIN ISOLATION LEVEL " + level.sql() + (readOnly ? " READ ONLY" : "");
    }

    @Override
    public String commitStatement() {
        return "COMMIT";
    }

    @Override
    public Mono<Void> begin(Connection connection, IsolationLevel level, boolean readOnly) {
        return Mono.from(connection.beginTransaction(R2dbcIsolation.definition(level, readOnly)));
    }

    @Override
    public boolean isTransientConflict(R2dbcException error) {
        // 40001 serialization failure, 40P01 deadlock detected.
        String state = error.getSqlState();
        return "40001".equals(state) || "40P01".equals(state);
    }

    /**
     * Class 08 but 08P01, a protocol violation (what was sent is malformed, and sending it again
     * fails the same way); 57P01..57P03, admin shutdown, crash shutdown, cannot connect now; 53300,
     * too many connections.
     */
    @Override
    public boolean isLostConnection(String state) {
        return (state.startsWith("08") && !state.equals("08P01")) || state.equals("57P01") || state.equals("57P02")
                || state.equals("57P03") || state.equals("53300");
    }

    /** The standard refusals, and class P0: an error a PL/pgSQL procedure raised. */
    @Override
    public boolean isRefusal(String state) {
        return Dialect.super.isRefusal(state) || state.startsWith("P0");
    }

    @Override
    public String migrationFolder() {
        return "postgresql";
    }

    @Override
    public String migrationLock() {
        return "SELECT pg_advisory_lock(" + MIGRATION_LOCK_KEY + ")";
    }
}
