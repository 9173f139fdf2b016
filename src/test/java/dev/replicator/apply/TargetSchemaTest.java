package dev.replicator.apply;

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

/** Replicator's own tables against a real PostgreSQL: created when missing, and brought up to date when old. */
class TargetSchemaTest {

    static final String COLLATIONS = "SELECT attname || ' ' || collname FROM pg_attribute a"
            + " JOIN pg_collation c ON c.oid = a.attcollation"
            + " WHERE attrelid = 'replicator.row_position'::regclass AND attname IN ('table_name', 'row_key')"
            + " ORDER BY attname";

    DataSource db;

    @BeforeEach
    void setUp() {
        db = TestDatabases.freshDatabase(TestDatabases.target(), "target_schema_test");
    }

    @Test
    void rowPositionKeysAreComparedInByteOrder() throws SQLException {
        new TargetSchema(db, new Sql("replicator"), "replicator").ensure();

        assertEquals("row_key C\ntable_name C\n", TestDatabases.copy(db, COLLATIONS));
    }

    static final String OLD_TABLE = "CREATE SCHEMA replicator; CREATE TABLE replicator.row_position (table_name text"
            + " NOT NULL, row_key text NOT NULL, commit_pos bigint NOT NULL, change_pos bigint NOT NULL,"
            + " deleted boolean NOT NULL, updated_at timestamptz NOT NULL, PRIMARY KEY (table_name, row_key));";

    /** A role that may write the table but does not own it cannot convert it: it keeps working, as before. */
    @Test
    void positionsOwnedByAnotherRoleStayAsTheyAre() throws SQLException {
        TestDatabases.execute(db, OLD_TABLE + " DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles"
                + " WHERE rolname = 'schema_test_writer') THEN CREATE ROLE schema_test_writer LOGIN; END IF; END $$;"
                + " GRANT CREATE ON DATABASE target_schema_test TO schema_test_writer;"
                + " GRANT USAGE, CREATE ON SCHEMA replicator TO schema_test_writer;"
                + " GRANT SELECT, INSERT, UPDATE, DELETE ON replicator.row_position TO schema_test_writer");
        var writer = TestDatabases.dataSource(TestDatabases.target(), "target_schema_test");
        writer.setUser("schema_test_writer");

        new TargetSchema(writer, new Sql("replicator"), "replicator").ensure();

        assertEquals("row_key default\ntable_name default\n", TestDatabases.copy(db, COLLATIONS));
        assertEquals("backfill_progress\npull_coverage\nrejected\nrow_position\ntable_position\nupgrades\n",
                TestDatabases.copy(db, "SELECT tablename FROM pg_tables WHERE schemaname = 'replicator' ORDER BY 1"));
        assertEquals("", TestDatabases.copy(db, "SELECT attname FROM pg_attribute WHERE attrelid ="
                + " 'replicator.row_position'::regclass AND attname = 'lagging'"), "only the owner may add it");

        // it writes as before: whole rows fenced, nothing recorded of kept columns
        TestDatabases.execute(db, "CREATE TABLE items (id int PRIMARY KEY, v text);"
                + " GRANT SELECT, INSERT, UPDATE, DELETE ON items TO schema_test_writer");
        TargetTable items;
        try (Connection connection = db.getConnection()) {
            items = TargetCatalog.load(connection, new TableId("public", "items")).orElseThrow();
        }
        TargetWriter writes = new TargetWriter(writer, new Sql("replicator"), "replicator", id -> {
        });
        assertEquals(ChangeOutcome.Result.APPLIED, writes.write(List.of(RowIdentityTest.upsert(items, "1", "new", 20)))
                .get(0).result());
        assertEquals(ChangeOutcome.Result.STALE, writes.write(List.of(RowIdentityTest.upsert(items, "1", "old", 10)))
                .get(0).result());
        assertEquals("1\tnew\n", TestDatabases.copy(db, "SELECT * FROM items"));
    }

    @Test
    void positionsKeptByAnEarlierVersionAreConvertedAndKept() throws SQLException {
        // the table as versions before byte order created it, in the database's collation
        TestDatabases.execute(db, OLD_TABLE + " INSERT INTO replicator.row_position VALUES ('public.items', '{1}', 10, 11, false,"
                + " '2026-01-01 00:00:00+00'), ('public.items', '{2}', 12, 13, true, '2026-01-01 00:00:00+00')");
        assertEquals("row_key default\ntable_name default\n", TestDatabases.copy(db, COLLATIONS));

        new TargetSchema(db, new Sql("replicator"), "replicator").ensure();

        assertEquals("row_key C\ntable_name C\n", TestDatabases.copy(db, COLLATIONS));
        assertEquals("public.items\t{1}\t10\t11\tf\npublic.items\t{2}\t12\t13\tt\n", TestDatabases.copy(db,
                "SELECT table_name, row_key, commit_pos, change_pos, deleted FROM replicator.row_position"
                        + " ORDER BY row_key"));
        // the claim still finds its conflict through the rebuilt primary key
        assertEquals("row_position_pkey\n", TestDatabases.copy(db, "SELECT indexname FROM pg_indexes"
                + " WHERE schemaname = 'replicator' AND tablename = 'row_position'"));
    }

    /** The rejected table as the first release with parking created it, and as the release before keeping bytes. */
    static final String[] OLD_REJECTED = {
            "CREATE SCHEMA replicator; CREATE TABLE replicator.rejected (id bigserial PRIMARY KEY,"
                    + " received_at timestamptz NOT NULL DEFAULT now(), event_id text, event_type text,"
                    + " status int NOT NULL, reason text NOT NULL, event jsonb NOT NULL)",
            "CREATE SCHEMA replicator; CREATE TABLE replicator.rejected (id bigserial PRIMARY KEY,"
                    + " received_at timestamptz NOT NULL DEFAULT now(), event_id text, event_type text,"
                    + " status int NOT NULL, reason text NOT NULL, event jsonb NOT NULL, batch_index int,"
                    + " event_md5 text); CREATE UNIQUE INDEX rejected_event_md5 ON replicator.rejected (event_md5)" };

    static final String REJECTED_COLUMNS = "SELECT attname || ' ' || format_type(atttypid, atttypmod)"
            + " || CASE WHEN attnotnull THEN ' not null' ELSE '' END FROM pg_attribute"
            + " WHERE attrelid = 'replicator.rejected'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum";

    @Test
    void rejectedEventsKeptByEarlierReleasesStayAndTheTableTakesBytes() throws SQLException {
        String fresh = "id bigint not null\nreceived_at timestamp with time zone not null\nevent_id text\n"
                + "event_type text\nstatus integer not null\nreason text not null\nevent jsonb\nbatch_index integer\n"
                + "event_md5 text\nheaders bytea\nbody bytea\n";
        new TargetSchema(db, new Sql("replicator"), "replicator").ensure();
        assertEquals(fresh, TestDatabases.copy(db, REJECTED_COLUMNS));

        for (String old : OLD_REJECTED) {
            db = TestDatabases.freshDatabase(TestDatabases.target(), "target_schema_test");
            TestDatabases.execute(db, old + "; INSERT INTO replicator.rejected (event_id, status, reason, event)"
                    + " VALUES ('old-1', 400, 'unsupported', '{\"headers\": {}, \"body\": {\"a\": 1}}')");

            new TargetSchema(db, new Sql("replicator"), "replicator").ensure();

            assertEquals(fresh, TestDatabases.copy(db, REJECTED_COLUMNS), old);
            assertEquals("old-1\t400\t{\"a\": 1}\t\\N\n", TestDatabases.copy(db,
                    "SELECT event_id, status, event->'body', body FROM replicator.rejected"));
            assertEquals("rejected_event_md5, rejected_pkey\n", TestDatabases.copy(db, "SELECT string_agg(indexname,"
                    + " ', ' ORDER BY indexname) FROM pg_indexes WHERE tablename = 'rejected'"));
        }
    }
}
