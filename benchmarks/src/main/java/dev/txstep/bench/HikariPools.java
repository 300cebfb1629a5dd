package dev.txstep.bench;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;

/**
 * Builds the HikariCP pools of the DBOS Java variant: fixed size (minimum idle = maximum, Hikari's
 * own default), so like the R2DBC pools they hold their connections before the timed window.
 */
final class HikariPools {

    private HikariPools() {
    }

    /**
     * @param postgres the server
     * @param database the database on it
     * @param size     the pool's fixed size
     * @param name     the pool's name, for thread names and logs
     * @return an open pool
     */
    static HikariDataSource open(Postgres postgres, String database, int size, String name) {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(postgres.jdbcUrl(database));
        config.setUsername(postgres.user());
        if (!postgres.password().isEmpty()) {
            config.setPassword(postgres.password());
        }
        config.setMaximumPoolSize(size);
        config.setMinimumIdle(size);
        config.setPoolName(name);
        // So ResourceMeter meters these backends' CPU as the R2DBC pools' (DBOS's system pool too).
        config.addDataSourceProperty("ApplicationName", ResourceMeter.APPLICATION_NAME);
        return new HikariDataSource(config);
    }
}
