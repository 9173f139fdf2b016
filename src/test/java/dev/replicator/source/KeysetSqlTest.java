package dev.replicator.source;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;

import org.junit.jupiter.api.Test;

import dev.replicator.apply.Sql;
import dev.replicator.decode.TableId;
import dev.replicator.convert.TargetColumn;

/** The exact statements the source-side jobs send, so a change to them is a visible, reviewed change. */
class KeysetSqlTest {

    static TargetColumn column(String name, String type) {
        return new TargetColumn(name, type, type, 'N', false, -1, -1, false, false);
    }

    static final KeyedTable LINES = new KeyedTable(new TableId("sales", "order \"lines\""),
            List.of(column("order_id", "integer"), column("line_no", "smallint")),
            List.of("order_id", "line_no", "sku", "price"));

    static final KeyedTable ITEMS = new KeyedTable(new TableId("public", "items"), List.of(column("id", "bigint")),
            List.of("id", "name"));

    @Test
    void copyChunkReadsTheColumnsInKeyOrderBetweenBoundsKeptInSettings() {
        assertEquals("COPY (SELECT t.\"order_id\", t.\"line_no\", t.\"sku\", t.\"price\""
                + " FROM \"sales\".\"order \"\"lines\"\"\" t WHERE (\"order_id\", \"line_no\")"
                + " > (current_setting('replicator.copy_after_1')::integer,"
                + " current_setting('replicator.copy_after_2')::smallint) AND (\"order_id\", \"line_no\")"
                + " <= (current_setting('replicator.copy_last_1')::integer,"
                + " current_setting('replicator.copy_last_2')::smallint)"
                + " ORDER BY t.\"order_id\", t.\"line_no\") TO STDOUT", KeysetSql.copyChunk(LINES, true, true));
        assertEquals("COPY (SELECT t.\"id\", t.\"name\" FROM \"public\".\"items\" t ORDER BY t.\"id\") TO STDOUT",
                KeysetSql.copyChunk(ITEMS, false, false));
    }

    @Test
    void lastKeyIsTheHighestAfterTheCheckpoint() {
        assertEquals("SELECT \"id\"::text FROM \"public\".\"items\" t WHERE (\"id\") > (?::bigint)"
                + " ORDER BY t.\"id\" DESC LIMIT 1", KeysetSql.lastKey(ITEMS, true));
    }

    @Test
    void rowByKey() {
        assertEquals("SELECT \"order_id\"::text, \"line_no\"::text, \"sku\"::text, \"price\"::text"
                + " FROM \"sales\".\"order \"\"lines\"\"\" WHERE \"order_id\" = ?::integer AND \"line_no\" = ?::smallint",
                KeysetSql.row(LINES));
    }

    @Test
    void rangeEndIsTheChunkthKeyAfterTheLastOne() {
        assertEquals("SELECT \"id\"::text FROM \"public\".\"items\" t WHERE (\"id\") > (?::bigint) ORDER BY t.\"id\""
                + " OFFSET ? LIMIT 1", KeysetSql.rangeEnd(ITEMS, true));
        assertEquals("SELECT \"id\"::text FROM \"public\".\"items\" t ORDER BY t.\"id\" OFFSET ? LIMIT 1",
                KeysetSql.rangeEnd(ITEMS, false));
    }

    @Test
    void checksumIsComputedInTheDatabaseOverTheRange() {
        assertEquals("SELECT count(*), coalesce(sum(('x' || left(md5(ROW(\"id\"::text, \"name\"::text)::text), 16))"
                + "::bit(64)::bigint), 0)::text FROM \"public\".\"items\" WHERE (\"id\") > (?::bigint)"
                + " AND (\"id\") <= (?::bigint)", KeysetSql.checksum(ITEMS, true, true));
        assertEquals("SELECT count(*), coalesce(sum(('x' || left(md5(ROW(\"id\"::text, \"name\"::text)::text), 16))"
                + "::bit(64)::bigint), 0)::text FROM \"public\".\"items\" WHERE (\"id\") <= (?::bigint)",
                KeysetSql.checksum(ITEMS, false, true));
        assertEquals("SELECT count(*), coalesce(sum(('x' || left(md5(ROW(\"id\"::text, \"name\"::text)::text), 16))"
                + "::bit(64)::bigint), 0)::text FROM \"public\".\"items\"", KeysetSql.checksum(ITEMS, false, false));
    }

    @Test
    void rowHashesOfARangeInKeyOrder() {
        assertEquals("SELECT \"order_id\"::text, \"line_no\"::text, md5(ROW(\"order_id\"::text, \"line_no\"::text,"
                + " \"sku\"::text, \"price\"::text)::text) FROM \"sales\".\"order \"\"lines\"\"\" t"
                + " WHERE (\"order_id\", \"line_no\") > (?::integer, ?::smallint) ORDER BY t.\"order_id\", t.\"line_no\"",
                KeysetSql.rowHashes(LINES, true, false));
    }

    @Test
    void checkpointAndPositionStatements() {
        Sql sql = new Sql("replicator");
        assertEquals("INSERT INTO \"replicator\".backfill_progress AS b (table_name, last_key, rows, done,"
                + " updated_at) VALUES (?, ?, ?, ?, now()) ON CONFLICT (table_name) DO UPDATE SET"
                + " last_key = EXCLUDED.last_key, rows = b.rows + EXCLUDED.rows, done = EXCLUDED.done,"
                + " updated_at = now() WHERE b.last_key IS NOT DISTINCT FROM ? AND NOT b.done", sql.advanceBackfill());
        assertEquals("SELECT last_key, rows, done FROM \"replicator\".backfill_progress WHERE table_name = ?",
                sql.backfillProgress());
        dev.replicator.route.TargetTable items = new dev.replicator.route.TargetTable(ITEMS.id(),
                java.util.Map.of("id", column("id", "bigint")), List.of("id"), false);
        assertEquals("UPDATE \"replicator\".row_position SET commit_pos = ?, change_pos = ?, deleted = ?,"
                + " updated_at = now(), lagging = NULL WHERE table_name = ? AND row_key = ARRAY[(?::bigint)::text]::text",
                sql.setRowPosition(items));
    }
}
