package dev.txstep.examples.readme;

import dev.txstep.AsyncDatasource;
import dev.txstep.DatasourceConfig;
import dev.txstep.RetryPolicy;
import dev.txstep.serialization.JacksonSerializer;
import java.time.Duration;

/** The README's "Configuration" snippet, on the PostgreSQL it names. */
final class ConfigurationSnippet {

    private ConfigurationSnippet() {
    }

    static AsyncDatasource create() {
        // README begin
        AsyncDatasource ds = AsyncDatasource.create(DatasourceConfig.builder()
                .url("r2dbc:postgresql://postgres@127.0.0.1:5432/postgres") // or .connectionFactory(yourPool)
                .jdbcUrl("jdbc:postgresql://127.0.0.1:5432/postgres")      // for migrations; derived from url when absent
                .jdbcCredentials("postgres", "")
                .migrate(true)                                           // install/upgrade the table at create
                .schema("dbos")                                          // a plain SQL identifier, used quoted
                .serializer(JacksonSerializer.builder().allowPackages("com.acme.orders").build())
                .retryPolicy(RetryPolicy.defaults().withMaxAttempts(10))
                .initialPoolSize(1).maxPoolSize(10)                      // the Java form of DBOS's engine_kwargs
                .acquireTimeout(Duration.ofSeconds(30)).maxIdleTime(Duration.ofMinutes(30))
                .build()).block();
        // README end
        return ds;
    }

    static DatasourceConfig multiHost() {
        // README begin
        DatasourceConfig config = DatasourceConfig.builder()
                .url("r2dbc:postgresql:failover://app:secret@db1:5432,db2:5432/app?targetServerType=primary")
                // derived: jdbc:postgresql://db1:5432,db2:5432/app?targetServerType=primary
                .build();
        // README end
        return config;
    }
}
