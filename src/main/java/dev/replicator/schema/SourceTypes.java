package dev.replicator.schema;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import dev.replicator.decode.TableId;

/**
 * What the source's catalog says a column's type is, ready to be made on the target: built-in types as
 * {@code format_type} prints them, enums and domains (also inside arrays and domains) with their definitions, so the
 * target can be given the same. Other user-defined types (an extension's, a composite, a range) are named, not
 * defined: the target must have them.
 */
public final class SourceTypes {

    private static final String TYPE_SQL = """
            SELECT t.typtype, n.nspname, t.typname, t.typelem, t.typbasetype, t.typtypmod, t.typnotnull,
                   format_type(t.oid, ?), t.typcategory = 'A' AND t.typelem <> 0
            FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
            WHERE t.oid = ?
            """;
    private static final String ENUM_SQL = """
            SELECT string_agg(quote_literal(enumlabel), ', ' ORDER BY enumsortorder) FROM pg_enum WHERE enumtypid = ?
            """;
    private static final String DOMAIN_CONSTRAINTS_SQL = """
            SELECT coalesce(string_agg(format('CONSTRAINT %I %s', conname, pg_get_constraintdef(oid)), ' '
                                       ORDER BY conname), '')
            FROM pg_constraint WHERE contypid = ?
            """;
    private static final String COLUMNS_SQL = """
            SELECT a.attname, a.atttypid, a.atttypmod,
                   CASE WHEN a.atthasmissing AND t.typcategory <> 'A' THEN quote_literal(a.attmissingval::text) END,
                   CASE WHEN pg_get_expr(d.adbin, d.adrelid) !~ '[(]' THEN pg_get_expr(d.adbin, d.adrelid) END
            FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
            LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum AND a.attgenerated = ''
            WHERE a.attrelid = to_regclass(?) AND a.attnum > 0 AND NOT a.attisdropped
            ORDER BY a.attnum
            """;
    private static final String KEY_SQL = """
            SELECT a.attname
            FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
            WHERE i.indrelid = to_regclass(?) AND i.indisprimary
            ORDER BY array_position(i.indkey::int2[], a.attnum)
            """;

    /**
     * A column of a source table: its name, its type, and what rows that existed before it was added hold, as an
     * PostgreSQL's "missing value" of a column added with a constant default (exact; {@code missingArray}: its array
     * text, quoted), or else the column's default when it is a constant ({@code constantDefault}: the table was
     * rewritten since by a later change, which stores the values and forgets the missing value).
     */
    public record Column(String name, int typeOid, int typmod, String missingArray, String constantDefault) {

        /** The value rows that existed before the column was added hold, as an expression of this type; or null. */
        public String existingValue(String sqlType) {
            if (missingArray != null) {
                return "((" + missingArray + ")::" + sqlType + "[])[1]";
            }
            return constantDefault == null ? null : "(" + constantDefault + ")::" + sqlType;
        }
    }

    /** A source table's columns in table order and its primary key (empty if it has none). */
    public record Table(List<Column> columns, List<String> key) {

        public Optional<Column> column(String name) {
            return columns.stream().filter(c -> c.name().equals(name)).findFirst();
        }
    }

    private SourceTypes() {
    }

    /** The table as the source's catalog has it now, or empty when the source has no such table. */
    public static Optional<Table> table(Connection source, TableId id) throws SQLException {
        List<Column> columns = new ArrayList<>();
        try (PreparedStatement statement = source.prepareStatement(COLUMNS_SQL)) {
            statement.setString(1, id.sql());
            try (ResultSet rs = statement.executeQuery()) {
                while (rs.next()) {
                    columns.add(new Column(rs.getString(1), rs.getInt(2), rs.getInt(3), rs.getString(4),
                            rs.getString(5)));
                }
            }
        }
        if (columns.isEmpty()) {
            return Optional.empty();
        }
        List<String> key = new ArrayList<>();
        try (PreparedStatement statement = source.prepareStatement(KEY_SQL)) {
            statement.setString(1, id.sql());
            try (ResultSet rs = statement.executeQuery()) {
                while (rs.next()) {
                    key.add(rs.getString(1));
                }
            }
        }
        return Optional.of(new Table(columns, key));
    }

    /** The column as the target would be given it; {@code existing} as {@link Column#existingValue()}, or null. */
    public static ColumnSpec column(Connection source, String name, int typeOid, int typmod, Column existing)
            throws SQLException {
        List<SchemaChange.CreateType> needs = new ArrayList<>();
        String sqlType = type(source, typeOid, typmod, needs, 0);
        return new ColumnSpec(name, sqlType, needs, existing == null ? null : existing.existingValue(sqlType));
    }

    private static String type(Connection source, int oid, int typmod, List<SchemaChange.CreateType> needs, int depth)
            throws SQLException {
        if (depth > 10) {
            throw new SQLException("type " + oid + " nests too deep", "42P16");
        }
        try (PreparedStatement statement = source.prepareStatement(TYPE_SQL)) {
            statement.setInt(1, typmod);
            statement.setInt(2, oid);
            try (ResultSet rs = statement.executeQuery()) {
                if (!rs.next()) {
                    throw new SQLException("the source has no type with oid " + oid, "42704");
                }
                char kind = rs.getString(1).charAt(0);
                String schema = rs.getString(2);
                String name = rs.getString(3);
                int element = rs.getInt(4);
                int base = rs.getInt(5);
                int baseTypmod = rs.getInt(6);
                boolean notNull = rs.getBoolean(7);
                String formatted = rs.getString(8);
                boolean array = rs.getBoolean(9);
                if ("pg_catalog".equals(schema)) {
                    return formatted;
                }
                if (array) {
                    return type(source, element, typmod, needs, depth + 1) + "[]";
                }
                String qualified = TableId.quote(schema) + "." + TableId.quote(name);
                if (kind == 'e') {
                    add(needs, new SchemaChange.CreateType(schema, name, "enum", "ENUM (" + text(source, ENUM_SQL, oid)
                            + ")"));
                } else if (kind == 'd') {
                    String baseType = type(source, base, baseTypmod, needs, depth + 1);
                    String constraints = text(source, DOMAIN_CONSTRAINTS_SQL, oid);
                    add(needs, new SchemaChange.CreateType(schema, name, "domain", baseType
                            + (notNull ? " NOT NULL" : "") + (constraints.isEmpty() ? "" : " " + constraints)));
                }
                return qualified;
            }
        }
    }

    private static void add(List<SchemaChange.CreateType> needs, SchemaChange.CreateType type) {
        if (!needs.contains(type)) {
            needs.add(type);
        }
    }

    private static String text(Connection source, String sql, int oid) throws SQLException {
        try (PreparedStatement statement = source.prepareStatement(sql)) {
            statement.setInt(1, oid);
            try (ResultSet rs = statement.executeQuery()) {
                rs.next();
                String text = rs.getString(1);
                return text == null ? "" : text;
            }
        }
    }

    /** The source's types of a table's columns, as {@code format_type} prints them, from type oids and modifiers. */
    public static Map<String, String> formatTypes(Connection source, List<String> names, int[] oids, int[] typmods)
            throws SQLException {
        Map<String, String> types = new LinkedHashMap<>();
        try (PreparedStatement statement = source.prepareStatement(
                "SELECT format_type(o, m) FROM unnest(?::oid[], ?::int4[]) WITH ORDINALITY AS u(o, m, i) ORDER BY i")) {
            statement.setArray(1, source.createArrayOf("int8", java.util.Arrays.stream(oids).mapToObj(o ->
                    (Object) Integer.toUnsignedLong(o)).toArray()));
            statement.setArray(2, source.createArrayOf("int4", java.util.Arrays.stream(typmods).boxed().toArray()));
            try (ResultSet rs = statement.executeQuery()) {
                int i = 0;
                while (rs.next()) {
                    types.put(names.get(i++), rs.getString(1));
                }
            }
        }
        return types;
    }
}
