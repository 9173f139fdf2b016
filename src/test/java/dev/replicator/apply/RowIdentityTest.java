package dev.replicator.apply;

import static dev.replicator.apply.ChangeOutcome.Result.APPLIED;
import static dev.replicator.apply.ChangeOutcome.Result.STALE;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.sql.Connection;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import javax.sql.DataSource;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.postgresql.ds.PGSimpleDataSource;

import dev.replicator.decode.Operation;
import dev.replicator.decode.Position;
import dev.replicator.decode.TableId;
import dev.replicator.route.TargetCatalog;
import dev.replicator.route.TargetChange;
import dev.replicator.route.TargetTable;
import dev.replicator.testing.TestDatabases;

/**
 * One row has one identity in the positions, whatever the session that recorded it: two instances whose target
 * sessions print values differently (another time zone, interval style, float digits or bytea format, as an instance
 * in another TZ or a server with other defaults gives them) fence each other, and two tables whose names differ only
 * in where the dot is never share positions.
 */
class RowIdentityTest {

    DataSource db;

    @BeforeEach
    void setUp() {
        db = TestDatabases.freshDatabase(TestDatabases.target(), "row_identity_test");
        TestDatabases.execute(db, """
                CREATE TABLE stamps (k timestamptz PRIMARY KEY, v text);
                CREATE TABLE spans (k interval PRIMARY KEY, v text);
                CREATE TABLE ratios (k float8 PRIMARY KEY, v text);
                CREATE TABLE blobs (k bytea PRIMARY KEY, v text);
                CREATE TABLE stamp_lists (k timestamptz[] PRIMARY KEY, v text);
                CREATE TABLE periods (k tstzrange PRIMARY KEY, v text);
                CREATE TABLE reals (k real PRIMARY KEY, v text);
                CREATE TABLE amounts (k numeric PRIMARY KEY, v text);
                CREATE TABLE prices (k numeric(8,2) PRIMARY KEY, v text);
                """);
    }

    /** Table, the key as an event gives it, and a session setting under which the key prints otherwise. */
    static Stream<Arguments> keysThatPrintBySetting() {
        return Stream.of(
                Arguments.of("stamps", "2024-03-10 06:30:00+00", "TimeZone=America/New_York"),
                Arguments.of("stamps", "2024-03-10 06:30:00+00", "TimeZone=Asia/Kolkata"),
                Arguments.of("spans", "-1 day -2 hours", "IntervalStyle=sql_standard"),
                Arguments.of("spans", "1 year 2 mons 3 days 04:05:06.7", "IntervalStyle=iso_8601"),
                Arguments.of("ratios", "0.30000000000000004", "extra_float_digits=0"),
                Arguments.of("reals", "0.123456789", "extra_float_digits=-3"),
                Arguments.of("blobs", "\\x00ff27", "bytea_output=escape"),
                Arguments.of("stamp_lists", "{\"2024-03-10 06:30:00+00\",\"1999-12-31 23:59:59.5+00\"}",
                        "TimeZone=Pacific/Chatham"),
                Arguments.of("periods", "[\"2024-03-10 06:30:00+00\",\"2024-03-11 06:30:00+00\")",
                        "TimeZone=America/New_York"));
    }

    @ParameterizedTest(name = "{0} under {2}")
    @MethodSource("keysThatPrintBySetting")
    void twoInstancesWhoseSessionsPrintTheKeyDifferentlyFenceEachOther(String name, String key, String setting)
            throws SQLException {
        assertOneRow(name, writer(db), key, writer(withSession(setting)), key);
    }

    /**
     * The first writer writes the key as {@code key}, the second as {@code other}: an older version through the
     * second is stale, a newer delete through it holds against an older upsert through the first, one position.
     */
    private void assertOneRow(String name, TargetWriter first, String key, TargetWriter second, String other)
            throws SQLException {
        TargetTable table = table("public", name);
        assertEquals(APPLIED, first.write(List.of(upsert(table, key, "new", 20))).get(0).result());
        assertEquals(STALE, second.write(List.of(upsert(table, other, "old", 10))).get(0).result(),
                "an older version through the other writer is stale");
        assertEquals("new\n", TestDatabases.copy(db, "SELECT v FROM " + name));

        assertEquals(APPLIED, second.write(List.of(delete(table, other, 30))).get(0).result());
        assertEquals(STALE, first.write(List.of(upsert(table, key, "older", 25))).get(0).result(),
                "an older upsert does not bring back what a newer delete removed");
        assertEquals("", TestDatabases.copy(db, "SELECT v FROM " + name));
        assertEquals("1\n", TestDatabases.copy(db, "SELECT count(*) FROM replicator.row_position"),
                "one position for the row, whichever writer wrote it");
    }

    /** Table, and two spellings of one key that its type takes as equal but prints apart. */
    static Stream<Arguments> keysSpelledTwoWays() {
        return Stream.of(
                Arguments.of("amounts", "1.00", "1.0"),
                Arguments.of("amounts", "-0.000", "0"),
                Arguments.of("prices", "3.5", "3.50"),
                Arguments.of("ratios", "-0", "0"),
                Arguments.of("reals", "0", "-0.0"),
                Arguments.of("spans", "24:00:00", "1 day"),
                Arguments.of("spans", "30 days", "1 mon"),
                Arguments.of("spans", "1 mon -1 day", "29 days"),
                Arguments.of("stamps", "2024-03-10 06:30:00+00", "2024-03-10 12:00:00+05:30"));
    }

    /**
     * Two producers (or push and pull) may spell one key differently: the primary key takes both as the same row, and
     * so do the positions.
     */
    @ParameterizedTest(name = "{0}: {1} and {2}")
    @MethodSource("keysSpelledTwoWays")
    void twoSpellingsOfOneKeyAreOneRow(String name, String spelled, String respelled) throws SQLException {
        TargetWriter writer = writer(db);
        assertOneRow(name, writer, spelled, writer, respelled);
    }

    /** {@code "a.b"."c"} and {@code a."b.c"} would both be {@code a.b.c}: their positions stay apart. */
    @Test
    void tablesWhoseNamesDifferOnlyInWhereTheDotIsKeepPositionsApart() throws SQLException {
        TestDatabases.execute(db, "CREATE SCHEMA \"a.b\"; CREATE SCHEMA a;"
                + " CREATE TABLE \"a.b\".c (id int PRIMARY KEY, v text); CREATE TABLE a.\"b.c\" (id int PRIMARY KEY, v text)");
        TargetTable first = table("a.b", "c");
        TargetTable second = table("a", "b.c");
        TargetWriter writer = writer(db);

        assertEquals(APPLIED, writer.write(List.of(upsert(first, "1", "first", 50))).get(0).result());
        assertEquals(APPLIED, writer.write(List.of(upsert(second, "1", "second", 10))).get(0).result(),
                "the other table's row 1 has no position yet");
        assertEquals(APPLIED, writer.write(List.of(truncate(first, 60))).get(0).result());
        assertEquals(APPLIED, writer.write(List.of(upsert(second, "2", "after", 55))).get(0).result(),
                "a truncate of the one table leaves the other's changes alone");
        assertEquals("", TestDatabases.copy(db, "SELECT * FROM \"a.b\".c"));
        assertEquals("1\tsecond\n2\tafter\n", TestDatabases.copy(db, "SELECT * FROM a.\"b.c\" ORDER BY id"));
        assertEquals("\"a\".\"b.c\"\t{1}\n\"a\".\"b.c\"\t{2}\n", TestDatabases.copy(db,
                "SELECT table_name, row_key FROM replicator.row_position ORDER BY 1, 2"));
    }

    /**
     * The same database, each new session set as {@code setting} says first: what an instance in another time zone
     * (pgjdbc sends the JVM's), a server or role with other defaults, or SQL run on new connections gives.
     */
    static DataSource withSession(String setting) {
        PGSimpleDataSource plain = TestDatabases.dataSource(TestDatabases.target(), "row_identity_test");
        String[] nameValue = setting.split("=", 2);
        return (DataSource) Proxy.newProxyInstance(DataSource.class.getClassLoader(), new Class<?>[] { DataSource.class },
                (proxy, method, args) -> {
                    try {
                        Object result = method.invoke(plain, args);
                        if (result instanceof Connection connection) {
                            try (Statement set = connection.createStatement()) {
                                set.execute("SET " + nameValue[0] + " = '" + nameValue[1] + "'");
                            }
                        }
                        return result;
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }

    private static TargetWriter writer(DataSource db) {
        return new TargetWriter(db, new Sql("replicator"), "replicator", id -> {
        });
    }

    private TargetTable table(String schema, String name) throws SQLException {
        try (Connection connection = db.getConnection()) {
            return TargetCatalog.load(connection, new TableId(schema, name)).orElseThrow();
        }
    }

    static TargetChange upsert(TargetTable table, String key, String value, long position) {
        Map<String, String> values = new LinkedHashMap<>();
        values.put(table.primaryKey().get(0), key);
        values.put("v", value);
        return new TargetChange("u" + position, table, Operation.UPDATE, new Position(position, position),
                List.of(key), values, Set.of(), null, table.id().toString(), -1);
    }

    static TargetChange delete(TargetTable table, String key, long position) {
        return new TargetChange("d" + position, table, Operation.DELETE, new Position(position, position),
                List.of(key), Map.of(), Set.of(), null, table.id().toString(), -1);
    }

    static TargetChange truncate(TargetTable table, long position) {
        return new TargetChange("t" + position, table, Operation.TRUNCATE, new Position(position, position),
                List.of(), Map.of(), Set.of(), null, table.id().toString(), -1);
    }
}
