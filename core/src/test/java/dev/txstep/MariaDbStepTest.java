package dev.txstep;

import static dev.txstep.testing.Workflows.inWorkflow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.txstep.testing.TestDatabases;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The step contract on MariaDB (a schema is a database there). */
class MariaDbStepTest extends StepContract {

    @Override
    protected String databaseUrl() {
        return TestDatabases.mariadbR2dbcUrl();
    }

    @Override
    protected Map<IsolationLevel, String> isolationNames() {
        return Map.of(IsolationLevel.SERIALIZABLE, "serializable", IsolationLevel.REPEATABLE_READ, "repeatable-read",
                IsolationLevel.READ_COMMITTED, "read-committed");
    }

    @Test
    void aWorkflowIdLongerThanTheKeyHoldsIsRefusedBeforeAnythingRuns() {
        String fits = "w".repeat(767);
        assertEquals(1, inWorkflow(fits, bump("fits")).block());
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> inWorkflow("w".repeat(768), bump("too-long")).block());
        assertTrue(e.getMessage().contains("at most 767"), e.getMessage());
        assertEquals(1, db().counter(), "the refused step ran nothing");
        assertEquals(1, db().count("SELECT COUNT(*) FROM " + db().outputs()));
    }
}
