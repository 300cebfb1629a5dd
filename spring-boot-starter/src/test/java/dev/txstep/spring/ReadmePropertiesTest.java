package dev.txstep.spring;

import static org.assertj.core.api.Assertions.assertThat;

import dev.txstep.AsyncDatasource;
import dev.txstep.reactor.IdempotencyKeyWebFilter;
import dev.txstep.testing.TestDatabases;
import java.io.IOException;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.r2dbc.autoconfigure.R2dbcAutoConfiguration;
import org.springframework.boot.test.context.runner.ReactiveWebApplicationContextRunner;

/**
 * The README's Spring Boot properties, copied as written into an application: loaded as a
 * {@code .properties} file is (where a trailing {@code # …} is part of the value), they start
 * the application with the datasource and the Idempotency-Key filter. (A comment written after
 * {@code enabled=true} once made the value "true   # …", and start-up failed.)
 */
class ReadmePropertiesTest {

    private static final Pattern BLOCK = Pattern.compile("```properties\n(.*?)\n```", Pattern.DOTALL);

    @Test
    void theReadmesPropertiesStartTheApplicationWithTheFilter() throws IOException {
        TestDatabases.postgresR2dbcUrl(); // fails, saying how to start one, when no PostgreSQL is there
        Matcher block = BLOCK.matcher(Files.readString(readme()));
        assertThat(block.find()).as("a properties block in the README").isTrue();
        Properties properties = new Properties();
        properties.load(new StringReader(block.group(1)));
        List<String> values = new ArrayList<>();
        properties.forEach((key, value) -> values.add(key + "=" + value));
        String schema = TestDatabases.uniqueSchema("readme");
        values.add("txstep.schema=" + schema); // a schema of the test's own, dropped afterwards
        try {
            new ReactiveWebApplicationContextRunner()
                    .withConfiguration(AutoConfigurations.of(R2dbcAutoConfiguration.class,
                            TxstepAutoConfiguration.class, TxstepWebFluxAutoConfiguration.class))
                    .withPropertyValues(values.toArray(String[]::new))
                    .run(context -> {
                        assertThat(context).hasNotFailed();
                        assertThat(context).hasSingleBean(AsyncDatasource.class);
                        assertThat(context).hasSingleBean(IdempotencyKeyWebFilter.class);
                    });
        } finally {
            TestDatabases.exec(TestDatabases.postgresR2dbcUrl(), "DROP SCHEMA IF EXISTS \"" + schema + "\" CASCADE");
        }
    }

    private static Path readme() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.exists(p.resolve("README.md")) && Files.isDirectory(p.resolve("spring-boot-starter"))) {
                return p.resolve("README.md");
            }
        }
        throw new IllegalStateException("README.md not found");
    }
}
