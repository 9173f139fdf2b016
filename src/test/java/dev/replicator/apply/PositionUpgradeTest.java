package dev.replicator.apply;

import static dev.replicator.apply.ChangeOutcome.Result.APPLIED;
import static dev.replicator.apply.ChangeOutcome.Result.STALE;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;

import javax.sql.DataSource;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import dev.replicator.decode.TableId;
import dev.replicator.route.TargetCatalog;
import dev.replicator.route.TargetTable;
import dev.replicator.testing.TestDatabases;

/**
 * An upgrade keeps fencing: positions recorded by the previous release (keys printed in its instances' sessions, a
 * table with a dot in its name recorded unquoted, no lagging columns) still match the rows they stand for.
 */
class PositionUpgradeTest {

    DataSource db;

    @BeforeEach
    void setUp() {
        db = TestDatabases.freshDatabase(TestDatabases.target(), "position_upgrade_test");
        // the database prints intervals in the SQL standard's style: so did every session of the earlier release
        TestDatabases.execute(db, "ALTER DATABASE position_upgrade_test SET IntervalStyle = 'sql_standard'");
        TestDatabases.execute(db, """
                CREATE TABLE stamps (k timestamptz PRIMARY KEY, v text);
                CREATE TABLE spans (k interval PRIMARY KEY, v text);
                CREATE TABLE plain (k int PRIMARY KEY, v text);
                CREATE SCHEMA "a.b";
                CREATE TABLE "a.b".c (id int PRIMARY KEY, v text);
                """);
        // the tables as the earlier release created and wrote them; its instances ran in New York and in UTC
        TestDatabases.execute(db, """
                CREATE SCHEMA replicator;
                CREATE TABLE replicator.row_position (table_name text COLLATE "C" NOT NULL,
                    row_key text COLLATE "C" NOT NULL, commit_pos bigint NOT NULL, change_pos bigint NOT NULL,
                    deleted boolean NOT NULL, updated_at timestamptz NOT NULL, PRIMARY KEY (table_name, row_key));
                CREATE TABLE replicator.table_position (table_name text PRIMARY KEY, commit_pos bigint NOT NULL,
                    change_pos bigint NOT NULL, updated_at timestamptz NOT NULL);
                SET TimeZone = 'America/New_York';
                INSERT INTO replicator.row_position VALUES
                    ('public.stamps', ARRAY['2024-03-10 06:30:00+00'::timestamptz::text]::text, 20, 20, false, now()),
                    ('public.stamps', ARRAY['2024-03-11 06:30:00+00'::timestamptz::text]::text, 30, 30, true, now()),
                    ('public.spans', ARRAY['-1 day -2 hours'::interval::text]::text, 20, 20, false, now()),
                    ('public.plain', '{7}', 20, 20, false, now()),
                    ('a.b.c', '{1}', 50, 50, false, now());
                SET TimeZone = 'UTC';
                INSERT INTO replicator.row_position VALUES
                    ('public.stamps', ARRAY['2024-03-10 06:30:00+00'::timestamptz::text]::text, 25, 25, false, now());
                INSERT INTO replicator.table_position VALUES ('a.b.c', 40, 40, now());
                INSERT INTO stamps VALUES ('2024-03-10 06:30:00+00', 'v25');
                INSERT INTO spans VALUES ('-1 day -2 hours', 'v20');
                INSERT INTO plain VALUES (7, 'v20');
                INSERT INTO "a.b".c VALUES (1, 'v50');
                """);
    }

    @Test
    void positionsOfTheEarlierReleaseKeepFencingTheirRows() throws SQLException {
        TargetWriter writer = new TargetWriter(db, new Sql("replicator"), "replicator", id -> {
        });
        assertEquals(STALE, write(writer, "stamps", "2024-03-10 06:30:00+00", 22),
                "of the two spellings recorded for one key, the newer position stands");
        assertEquals(STALE, write(writer, "stamps", "2024-03-11 06:30:00Z", 29), "the delete's tombstone holds");
        assertEquals(STALE, write(writer, "spans", "-1 day -2 hours", 10));
        assertEquals(STALE, write(writer, "plain", "7", 10));
        assertEquals(STALE, write(writer, "c", "1", 45), "a dotted name's rows are its own now");
        assertEquals(STALE, write(writer, "c", "2", 35), "and so is its truncate");
        assertEquals("2024-03-10 06:30:00+00\tv25\n", TestDatabases.copy(db, "SELECT * FROM stamps"));
        assertEquals("\"a.b\".\"c\"\t{1}\t50\n"
                + "public.plain\t{7}\t20\n"
                + "public.spans\t{\"-1 days -02:00:00\"}\t20\n"
                + "public.stamps\t{\"2024-03-10 06:30:00+00\"}\t25\n"
                + "public.stamps\t{\"2024-03-11 06:30:00+00\"}\t30\n",
                TestDatabases.copy(db, "SELECT table_name, row_key, commit_pos FROM replicator.row_position ORDER BY 1, 2"));
        assertEquals("\"a.b\".\"c\"\t40\n", TestDatabases.copy(db,
                "SELECT table_name, commit_pos FROM replicator.table_position"));

        assertEquals(APPLIED, write(writer, "stamps", "2024-03-10 06:30:00+00", 26));
        assertEquals(APPLIED, write(writer, "spans", "-1 day -2 hours", 21));
        assertEquals(APPLIED, write(writer, "c", "1", 51));
        assertEquals("2024-03-10 06:30:00+00\tv26\n", TestDatabases.copy(db, "SELECT * FROM stamps"));

        // another instance starting later finds the upgrade made
        new TargetSchema(db, new Sql("replicator"), "replicator").ensure();
        assertEquals(PositionUpgrade.NAME + "\n", TestDatabases.copy(db, "SELECT name FROM replicator.upgrades"));
    }

    private ChangeOutcome.Result write(TargetWriter writer, String table, String key, long position)
            throws SQLException {
        TargetTable target;
        try (Connection connection = db.getConnection()) {
            target = TargetCatalog.load(connection, new TableId(table.equals("c") ? "a.b" : "public", table))
                    .orElseThrow();
        }
        return writer.write(List.of(RowIdentityTest.upsert(target, key, "v" + position, position))).get(0).result();
    }
}
