package dev.txstep.examples;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The README's "Install" table of tested versions says what the build uses: each row's "tested"
 * column must be the version property of the parent pom that surefire passes in (see
 * examples/pom.xml). Bump a version without the README, or the README without the build, and this
 * fails naming the row.
 */
class InstallVersionsTest {

    /** README row label to the system property holding the build's version. */
    private static final Map<String, String> ROWS = Map.ofEntries(
            Map.entry("`org.postgresql:r2dbc-postgresql`", "r2dbc-postgresql.version"),
            Map.entry("`org.postgresql:postgresql`", "postgresql.version"),
            Map.entry("`org.flywaydb:flyway-core` (and `flyway-database-postgresql`, `flyway-mysql`)", "flyway.version"),
            Map.entry("`io.r2dbc:r2dbc-h2`", "r2dbc-h2.version"),
            Map.entry("`com.h2database:h2`", "h2.version"),
            Map.entry("`org.mariadb:r2dbc-mariadb`", "r2dbc-mariadb.version"),
            Map.entry("`org.mariadb.jdbc:mariadb-java-client`", "mariadb-jdbc.version"),
            Map.entry("`io.r2dbc:r2dbc-pool`", "r2dbc-pool.version"),
            Map.entry("`io.projectreactor:reactor-bom`", "reactor.version"),
            Map.entry("`com.fasterxml.jackson:jackson-bom`", "jackson.version"),
            Map.entry("`io.micrometer:micrometer-core`", "micrometer.version"),
            Map.entry("`org.springframework.boot`", "spring-boot.version"),
            Map.entry("`org.springframework:spring-framework-bom`", "spring-framework.version"),
            Map.entry("`dev.dbos:transact`", "dbos-transact.version"));

    @Test
    void readmeTestedVersionsAreTheBuildsVersions() throws IOException {
        List<String> lines = Files.readAllLines(Path.of(System.getProperty("txstep.readme", "../README.md")));
        for (Map.Entry<String, String> row : ROWS.entrySet()) {
            String version = System.getProperty("txstep.versions." + row.getValue());
            assertFalse(version == null || version.isBlank() || version.startsWith("${"),
                    "surefire did not pass " + row.getValue() + " (examples/pom.xml)");
            String prefix = "| " + row.getKey() + " | " + version;
            assertTrue(lines.stream().anyMatch(line -> line.startsWith(prefix + " |") || line.startsWith(prefix + " (")),
                    "README.md's Install table has no row '" + prefix + " | ...' (the build uses " + version + ")");
        }
    }
}
