package dev.txstep.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.txstep.examples.BlockingCaller.Summary;
import dev.txstep.testing.TestDatabases;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * Runs the blocking caller on H2 and PostgreSQL: the batch settled twice on a fixed thread pool,
 * the second pass replaying every step; checked by the example's own counts and, on PostgreSQL,
 * by counting its rows over JDBC.
 */
class BlockingCallerTest {

    @Test
    void settlesEachInvoiceOnceOnH2() throws Exception {
        Summary summary = BlockingCaller.run(TestDatabases.h2R2dbcUrl(), "blocking", quiet());
        assertTrue(summary.exactlyOnce(), summary.toString());
        assertEquals(0, summary.functionsRun2());
    }

    @Test
    void settlesEachInvoiceOnceOnPostgres() throws Exception {
        String url = TestDatabases.postgresR2dbcUrl();
        String schema = TestDatabases.uniqueSchema("blocking");
        try {
            Summary summary = BlockingCaller.run(url, schema, quiet());
            assertTrue(summary.exactlyOnce(), summary.toString());
            // Counted independently of the example's own report.
            assertEquals(40, TestDatabases.queryLong(url, "SELECT COUNT(*) FROM \"" + schema + "\".payments"));
            assertEquals(40, TestDatabases.queryLong(url, "SELECT COUNT(*) FROM \"" + schema + "\".invoices WHERE paid"));
            assertEquals(80, TestDatabases.queryLong(url, "SELECT COUNT(*) FROM \"" + schema + "\".datasource_outputs"));
        } finally {
            TestDatabases.exec(url, "DROP SCHEMA IF EXISTS \"" + schema + "\" CASCADE");
        }
    }

    private static PrintStream quiet() {
        return new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
    }
}
