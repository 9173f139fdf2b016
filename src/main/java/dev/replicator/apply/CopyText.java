package dev.replicator.apply;

import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;

import org.postgresql.copy.CopyIn;

import dev.replicator.route.TargetChange;

/**
 * Rows sent as COPY text: a value as its text with backslash, tab, newline and carriage return escaped, a null as
 * {@code \N}, columns separated by tabs. Values are PostgreSQL's own text output, read back by each column's input.
 */
final class CopyText {

    private static final int FLUSH_BYTES = 1 << 16;

    private CopyText() {
    }

    /** Copies the rows' values of these columns with the given COPY statement; returns the rows written. */
    static long copy(Connection connection, String copySql, List<String> columns, List<TargetChange> rows)
            throws SQLException {
        return CopyWriter.copy(connection, copySql, sink -> {
            StringBuilder text = new StringBuilder(FLUSH_BYTES + 4096);
            for (TargetChange row : rows) {
                for (int c = 0; c < columns.size(); c++) {
                    if (c > 0) {
                        text.append('\t');
                    }
                    append(text, row.values().get(columns.get(c)));
                }
                text.append('\n');
                if (text.length() >= FLUSH_BYTES) {
                    write(sink, text);
                }
            }
            write(sink, text);
        });
    }

    static void append(StringBuilder text, String value) {
        if (value == null) {
            text.append("\\N");
            return;
        }
        for (int i = 0; i < value.length(); i++) {
            char ch = value.charAt(i);
            switch (ch) {
                case '\\' -> text.append("\\\\");
                case '\t' -> text.append("\\t");
                case '\n' -> text.append("\\n");
                case '\r' -> text.append("\\r");
                default -> text.append(ch);
            }
        }
    }

    private static void write(CopyIn sink, StringBuilder text) throws SQLException {
        byte[] bytes = text.toString().getBytes(StandardCharsets.UTF_8);
        sink.writeToCopy(bytes, 0, bytes.length);
        text.setLength(0);
    }
}
