package dev.txstep.bench;

import java.util.concurrent.ThreadLocalRandom;

/**
 * The benchmark's transaction, the same in every variant: update the balance of one account
 * chosen at random among {@value #ACCOUNTS} and insert one ledger row. The statements' text is
 * shared by the R2DBC, JDBC and Node.js variants ({@code benchmarks/node/bench.mjs} spells the same
 * text); all drivers bind {@code $n} parameters.
 */
public final class Transfers {

    /** Rows in the accounts table; ids are 1..ACCOUNTS. */
    public static final int ACCOUNTS = 10_000;

    /** The schema of the workload's tables. */
    public static final String SCHEMA = "bench_app";

    /** {@code $1} amount, {@code $2} account id. */
    public static final String UPDATE = "UPDATE " + SCHEMA + ".accounts SET balance = balance + $1 WHERE id = $2";

    /** {@code $1} account id, {@code $2} amount. */
    public static final String INSERT = "INSERT INTO " + SCHEMA + ".ledger (account_id, amount) VALUES ($1, $2)";

    private Transfers() {
    }

    /**
     * The same statement with JDBC placeholders: each {@code $n} becomes {@code ?}, which is exact
     * because both statements use their parameters once each, in order.
     *
     * @param sql one of this class's statements
     * @return the JDBC form
     */
    public static String jdbc(String sql) {
        return sql.replaceAll("\\$\\d+", "?");
    }

    /** @return a uniformly random account id */
    public static int randomAccount() {
        return 1 + ThreadLocalRandom.current().nextInt(ACCOUNTS);
    }

    /** @return a random amount, 1..100 */
    public static long randomAmount() {
        return 1 + ThreadLocalRandom.current().nextInt(100);
    }
}
