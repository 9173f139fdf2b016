package dev.replicator.apply;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.SQLException;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

import dev.replicator.apply.TargetTransactions.Kind;

/** The SQLSTATE table: every class it names, the states that differ from their class, and clean messages. */
class TargetTransactionsTest {

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource({
            // class 08 connection exception: retry on another connection
            "08000, TRANSIENT", "08006, TRANSIENT", "08001, TRANSIENT",
            "09000, REFUSED",
            // 0A feature not supported (ON CONFLICT on a system table)
            "0A000, UNSUPPORTED",
            "0B000, TRANSIENT", "0F001, REFUSED", "0L000, NOT_PERMITTED", "0P000, NOT_PERMITTED", "0Z002, REFUSED",
            "20000, REFUSED", "21000, REFUSED",
            // 22 data exception: out of range, invalid text input, string too long, zero byte
            "22003, REFUSED", "22P02, REFUSED", "22001, REFUSED", "22021, REFUSED", "22023, REFUSED",
            // 23 integrity: unique, not null, check, foreign key, exclusion
            "23505, REFUSED", "23502, REFUSED", "23514, REFUSED", "23503, REFUSED", "23P01, REFUSED",
            "24000, TRANSIENT",
            // 25006 read-only transaction: a standby until failover completes
            "25006, TRANSIENT", "25P02, TRANSIENT",
            "26000, TRANSIENT", "27000, REFUSED", "28000, TRANSIENT", "28P01, TRANSIENT",
            "2B000, REFUSED", "2D000, REFUSED", "2F005, REFUSED", "34000, TRANSIENT", "38001, REFUSED",
            "39004, REFUSED", "3B001, TRANSIENT", "3D000, TRANSIENT", "3F000, TABLE_CHANGED",
            // 40 transaction rollback: serialization failure, deadlock
            "40001, TRANSIENT", "40P01, TRANSIENT", "40002, TRANSIENT",
            // 42: privilege, undefined table and column differ from the class
            "42501, NOT_PERMITTED", "42P01, TABLE_CHANGED", "42703, TABLE_CHANGED", "42601, REFUSED",
            "42804, REFUSED", "42883, REFUSED", "42P10, REFUSED",
            "44000, REFUSED",
            // 53 insufficient resources
            "53100, TRANSIENT", "53200, TRANSIENT", "53300, TRANSIENT", "53400, TRANSIENT",
            // 54 program limit exceeded: index row too large
            "54000, REFUSED", "54001, REFUSED", "54011, REFUSED",
            // 55: lock not available and object in use differ from the class
            "55000, REFUSED", "55P03, TRANSIENT", "55006, TRANSIENT",
            // 57 operator intervention: statement timeout, shutdown
            "57014, TRANSIENT", "57P01, TRANSIENT", "57P03, TRANSIENT",
            "58030, TRANSIENT", "72000, TRANSIENT", "F0000, TRANSIENT", "HV000, TRANSIENT",
            // P0 a trigger raised
            "P0001, REFUSED", "XX000, TRANSIENT", "XX001, TRANSIENT",
            // not a PostgreSQL class: retried until the broker's limit
            "ZZ999, TRANSIENT"})
    void kindOfEveryClass(String state, Kind kind) {
        assertEquals(kind, TargetTransactions.kind(state));
        assertEquals(kind.status(), kind == Kind.TRANSIENT || kind == Kind.TABLE_CHANGED ? 503 : 422);
    }

    @ParameterizedTest
    @ValueSource(strings = { "", "0", "080" })
    void withoutAStateItIsTransient(String state) {
        assertEquals(Kind.TRANSIENT, TargetTransactions.kind(state));
        assertEquals(Kind.TRANSIENT, TargetTransactions.kind((String) null));
    }

    @Test
    void refusedIs422AndTransientIs503() {
        RuntimeException refused = TargetTransactions.answer("e-1", "target", "writing public.t",
                new SQLException("index row size 2720 exceeds btree version 4 maximum 2704 for index \"t_pkey\"",
                        "54000"));
        assertInstanceOf(RejectedChangeException.class, refused);
        assertEquals("event e-1: target refused writing public.t: index row size 2720 exceeds btree version 4 maximum"
                + " 2704 for index \"t_pkey\" (SQLSTATE 54000)", refused.getMessage());
        RuntimeException unavailable = TargetTransactions.answer(null, "source", "reading rows",
                new SQLException("Connection refused", "08001"));
        assertInstanceOf(TargetUnavailableException.class, unavailable);
        assertEquals(503, ((TargetUnavailableException) unavailable).status());
    }

    @Test
    void aMissingPrivilegeNamesTheGrant() {
        RuntimeException answer = TargetTransactions.answer("e-2", "target", "writing public.t",
                new SQLException("permission denied for table t", "42501"));
        assertInstanceOf(RejectedChangeException.class, answer);
        assertTrue(answer.getMessage().contains("grant"), answer.getMessage());
        assertTrue(answer.getMessage().contains("permission denied for table t"), answer.getMessage());
    }

    @Test
    void anUnsupportedFeatureIsNamed() {
        RuntimeException answer = TargetTransactions.answer("e-3", "target", "writing pg_catalog.pg_description",
                new SQLException("ON CONFLICT is not supported on table \"pg_description\" used as a catalog table",
                        "0A000"));
        assertInstanceOf(RejectedChangeException.class, answer);
        assertTrue(answer.getMessage().contains("feature not supported"), answer.getMessage());
        assertTrue(answer.getMessage().contains("ON CONFLICT is not supported on table \"pg_description\""),
                answer.getMessage());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "value \"77777777777\" is out of range for type integer|value \"...\" is out of range for type integer",
            "invalid input syntax for type integer: \"SECRET\"|invalid input syntax for type integer",
            "invalid input value for enum mood: \"SECRET\"|invalid input value for enum mood",
            "\"SECRET\" is out of range for type double precision|\"...\" is out of range for type double precision",
            "time zone \"SECRET\" not recognized|time zone \"...\" not recognized",
            "invalid byte sequence for encoding \"UTF8\": 0x00|invalid byte sequence for encoding \"UTF8\"",
            "null value in column \"qty\" of relation \"guarded\" violates not-null constraint|"
                    + "null value in column \"qty\" of relation \"guarded\" violates not-null constraint",
            "new row for relation \"guarded\" violates check constraint \"guarded_qty_check\"|"
                    + "new row for relation \"guarded\" violates check constraint \"guarded_qty_check\"",
            "Bad value for type int : SECRET|Bad value for type int",
            "duplicate key value violates unique constraint \"a\"\"b\"|"
                    + "duplicate key value violates unique constraint \"a\"\"b\"",
            "malformed array literal: \"{SECRET\"|malformed array literal"})
    void messagesLoseTheirValues(String message, String cleaned) {
        String result = TargetTransactions.withoutValues(new SQLException(message + "\nDetail: Failing row contains (SECRET)",
                "22000"));
        assertEquals(cleaned, result);
        assertFalse(result.contains("SECRET") || result.contains("77777777777"), result);
    }
}
