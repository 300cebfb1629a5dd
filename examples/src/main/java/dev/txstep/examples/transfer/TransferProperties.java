package dev.txstep.examples.transfer;

import java.util.Map;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * The service's settings, under {@code transfer.*} (e.g. {@code --transfer.url=...} on the command
 * line).
 *
 * @param url             the R2DBC URL; default embedded H2 in memory, e.g.
 *                        {@code r2dbc:postgresql://postgres@127.0.0.1:5432/postgres} for PostgreSQL
 * @param schema          the schema of the {@code accounts} and {@code ledger} tables and of
 *                        txstep's {@code datasource_outputs}; a plain SQL identifier; default
 *                        {@code transfer}
 * @param maxPoolSize     the connection pool's size; default 10
 * @param openingBalances accounts opened at start-up if they do not exist yet, id to balance in
 *                        cents (e.g. {@code --transfer.opening-balances.carol=5000}); default
 *                        {@code alice} and {@code bob} with 100 000 each
 */
@ConfigurationProperties("transfer")
public record TransferProperties(
        @DefaultValue(TransferProperties.DEFAULT_URL) String url,
        @DefaultValue("transfer") String schema,
        @DefaultValue("10") int maxPoolSize,
        Map<String, Long> openingBalances) {

    /** Embedded H2, in this process's memory: nothing to install, gone when the process ends. */
    public static final String DEFAULT_URL = "r2dbc:h2:mem:///transfer";

    /**
     * Fills in the default accounts.
     */
    public TransferProperties {
        openingBalances = openingBalances == null || openingBalances.isEmpty()
                ? Map.of("alice", 100_000L, "bob", 100_000L)
                : Map.copyOf(openingBalances);
    }
}
