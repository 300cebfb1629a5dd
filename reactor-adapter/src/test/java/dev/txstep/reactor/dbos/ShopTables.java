package dev.txstep.reactor.dbos;

import dev.txstep.testing.TestDatabases;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * The application side of the DBOS tests, in a schema of their own: the {@code effects} table
 * {@link ShopWorkflowsImpl}'s steps write to, and txstep's {@code datasource_outputs}, read back
 * over JDBC.
 *
 * @param url    the database's R2DBC URL
 * @param schema the schema
 */
record ShopTables(String url, String schema) {

    /** Creates {@code effects}: no key, so a step whose effect happened twice leaves two rows. */
    void createEffects() {
        TestDatabases.exec(url, "CREATE TABLE " + table("effects")
                + " (workflow_id text NOT NULL, step text NOT NULL, step_id int)");
    }

    /** A table of the schema, quoted and qualified. */
    String table(String name) {
        return "\"" + schema + "\"." + name;
    }

    /**
     * The workflow's effect rows counted per step, as {@code "<step id>:<name> x<count>"} in step
     * order ({@code "-"} for the id of a step that had no key).
     */
    List<String> effects(String workflowId) throws SQLException {
        return strings("SELECT COALESCE(step_id::text, '-') || ':' || step || ' x' || COUNT(*) FROM "
                + table("effects") + " WHERE workflow_id = ? GROUP BY step_id, step ORDER BY step_id", workflowId);
    }

    /**
     * The steps txstep recorded for a workflow, as {@code "<step id>:<name>"} in id order, with
     * {@code ":error"} appended for a recorded error.
     */
    List<String> txstepSteps(String workflowId) throws SQLException {
        return strings("SELECT step_id || ':' || step_name || CASE WHEN error IS NULL THEN '' ELSE ':error' END"
                + " FROM " + table("datasource_outputs") + " WHERE workflow_id = ? ORDER BY step_id", workflowId);
    }

    /** Drops the schema and everything in it. */
    void drop() {
        TestDatabases.exec(url, "DROP SCHEMA IF EXISTS \"" + schema + "\" CASCADE");
    }

    private List<String> strings(String sql, String workflowId) throws SQLException {
        List<String> rows = new ArrayList<>();
        try (Connection c = TestDatabases.jdbc(url); PreparedStatement s = c.prepareStatement(sql)) {
            s.setString(1, workflowId);
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    rows.add(rs.getString(1));
                }
            }
        }
        return rows;
    }
}
