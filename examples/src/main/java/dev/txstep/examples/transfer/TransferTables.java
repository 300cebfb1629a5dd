package dev.txstep.examples.transfer;

import java.util.Map;
import org.springframework.data.r2dbc.mapping.R2dbcMappingContext;
import org.springframework.data.relational.core.mapping.NamingStrategy;
import org.springframework.r2dbc.core.DatabaseClient;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Where the service's tables live, for Spring Data and for their creation: in the configured schema,
 * every name unquoted ({@code transfer.accounts}) both in Spring Data's statements and in the DDL,
 * so each database folds them the same way in both (PostgreSQL to lower case, where the schema is
 * the one txstep's migration created; H2 to upper case, where {@code TRANSFER} is a schema of its
 * own next to txstep's quoted {@code "transfer"}).
 */
final class TransferTables {

    private TransferTables() {
    }

    /** Spring Data's mapping: every entity's table in {@code schema}. */
    static R2dbcMappingContext mappingContext(String schema) {
        R2dbcMappingContext context = new R2dbcMappingContext(new NamingStrategy() {
            @Override
            public String getSchema() {
                return schema;
            }

            // Derived, not written in @Table: Spring Data adapts derived names to the database's
            // case (H2: ACCOUNTS), and writes names given in @Table exactly as given.
            @Override
            public String getTableName(Class<?> type) {
                return type == Account.class ? "accounts" : type == LedgerEntry.class ? "ledger"
                        : NamingStrategy.super.getTableName(type);
            }
        });
        return context;
    }

    /**
     * Creates the tables if they do not exist and opens the given accounts if they do not exist
     * (an account that exists keeps its balance). DDL has no Spring Data form, so it is SQL. The
     * schema is a plain identifier: txstep refused any other at start-up.
     */
    static Mono<Void> create(DatabaseClient client, String schema, Map<String, Long> openingBalances) {
        String accounts = schema + ".accounts";
        String ledger = schema + ".ledger";
        return client.sql("CREATE SCHEMA IF NOT EXISTS " + schema).then()
                .then(client.sql("CREATE TABLE IF NOT EXISTS " + accounts + " (id VARCHAR(64) PRIMARY KEY,"
                        + " balance BIGINT NOT NULL CHECK (balance >= 0))").then())
                .then(client.sql("CREATE TABLE IF NOT EXISTS " + ledger + " (transfer_id VARCHAR(36) NOT NULL,"
                        + " account_id VARCHAR(64) NOT NULL, amount BIGINT NOT NULL,"
                        + " PRIMARY KEY (transfer_id, account_id))").then())
                .thenMany(Flux.fromIterable(openingBalances.entrySet()).concatMap(account -> client.sql(
                                "INSERT INTO " + accounts + " (id, balance) SELECT $1, $2 WHERE NOT EXISTS"
                                        + " (SELECT 1 FROM " + accounts + " WHERE id = $3)")
                        .bind(0, account.getKey()).bind(1, account.getValue()).bind(2, account.getKey())
                        .then()))
                .then();
    }
}
