package dev.replicator.apply;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import javax.sql.DataSource;

import org.junit.jupiter.api.Test;

import dev.replicator.testing.TestDatabases;

/** The array literal that text[] parameters are bound as reads back, on a real server, as exactly its elements. */
class TextArrayTest {

    @Test
    void everyElementReadsBackAsItWas() throws Exception {
        String[] values = { "plain", "", null, "NULL", "with \"quotes\"", "back\\slash", "\\\"", "a,b", "{x}", " pad ",
                "tab\there", "line\nbreak", "ünïcødé ✓", "'single'" };
        DataSource db = TestDatabases.freshDatabase(TestDatabases.target(), "text_array_test");
        List<String> read = new ArrayList<>();
        try (Connection connection = db.getConnection();
                PreparedStatement unnest = connection.prepareStatement(
                        "SELECT v FROM unnest(?::text[]) WITH ORDINALITY AS u(v, i) ORDER BY i")) {
            unnest.setArray(1, TextArray.of(values));
            try (ResultSet rs = unnest.executeQuery()) {
                while (rs.next()) {
                    read.add(rs.getString(1));
                }
            }
        }
        assertEquals(Arrays.asList(values), read);
    }

    @Test
    void anEmptyArrayIsEmpty() {
        assertEquals("{}", TextArray.of(new String[0]).toString());
        assertEquals("{\"a\\\"b\",NULL}", TextArray.of(new String[] { "a\"b", null }).toString());
    }
}
