package dev.replicator.apply;

import static dev.replicator.apply.SqlTest.column;
import static dev.replicator.apply.SqlTest.table;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;

import org.junit.jupiter.api.Test;

import dev.replicator.route.TargetTable;

/** The exact statements of a backfill chunk written with COPY, so a change to them is a visible, reviewed change. */
class CopySqlTest {

    static final CopySql SQL = new CopySql("my \"own\"");

    static final TargetTable LINES = table("sales", "order \"lines\"", true, List.of("order_id", "line_no"),
            column("order_id", "integer"), column("line_no", "smallint"), column("sku", "text"));

    static final List<String> COLUMNS = List.of("order_id", "line_no", "sku");

    @Test
    void rowsGoStraightIntoTheTableOrIntoASessionStagingTable() {
        assertEquals("COPY \"sales\".\"order \"\"lines\"\"\" (\"order_id\", \"line_no\", \"sku\") FROM STDIN",
                SQL.copyIntoTable(LINES, COLUMNS));
        assertEquals("CREATE TEMP TABLE \"replicator_copy\" ON COMMIT DROP AS SELECT \"order_id\", \"line_no\", \"sku\""
                + " FROM \"sales\".\"order \"\"lines\"\"\" WITH NO DATA", SQL.createStaging(LINES, COLUMNS));
        assertEquals("COPY pg_temp.\"replicator_copy\" (\"order_id\", \"line_no\", \"sku\") FROM STDIN",
                SQL.copyIntoStaging(COLUMNS));
    }

    /** Keys with a position row belong to the stream; the key text is the one the writers record. */
    @Test
    void theMergeLeavesOutEveryKeyWithAPosition() {
        assertEquals("INSERT INTO \"sales\".\"order \"\"lines\"\"\" (\"order_id\", \"line_no\", \"sku\")"
                + " OVERRIDING SYSTEM VALUE SELECT c.\"order_id\", c.\"line_no\", c.\"sku\" FROM pg_temp.\"replicator_copy\" c"
                + " WHERE NOT EXISTS (SELECT 1 FROM \"my \"\"own\"\"\".row_position p WHERE p.table_name = ?"
                + " AND p.row_key = ARRAY[(c.\"order_id\")::text, (c.\"line_no\")::text]::text)"
                + " ON CONFLICT (\"order_id\", \"line_no\") DO UPDATE SET \"sku\" = EXCLUDED.\"sku\"",
                SQL.mergeStaging(LINES, COLUMNS));
        assertEquals(Sql.rowKeyOf(LINES, "c"), "ARRAY[(c.\"order_id\")::text, (c.\"line_no\")::text]::text");
    }

    @Test
    void aChunkGoesStraightInOnlyWhenTheTableHasNoPositionsAndItsRangeIsEmpty() {
        assertEquals("SELECT NOT EXISTS (SELECT 1 FROM \"my \"\"own\"\"\".row_position WHERE table_name = ?)"
                + " AND NOT EXISTS (SELECT 1 FROM \"sales\".\"order \"\"lines\"\"\" WHERE (\"order_id\", \"line_no\")"
                + " > (?::integer, ?::smallint) AND (\"order_id\", \"line_no\") <= (?::integer, ?::smallint))",
                SQL.unwritten(LINES, true, true));
        assertEquals("SELECT NOT EXISTS (SELECT 1 FROM \"my \"\"own\"\"\".row_position WHERE table_name = ?)"
                + " AND NOT EXISTS (SELECT 1 FROM \"sales\".\"order \"\"lines\"\"\")", SQL.unwritten(LINES, false, false));
    }
}
