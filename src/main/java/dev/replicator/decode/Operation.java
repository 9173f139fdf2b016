package dev.replicator.decode;

/** What happened to a row (or a table, for TRUNCATE) at the source. */
public enum Operation {
    /** Row inserted (Debezium {@code c}). */
    CREATE("c"),
    /** Row read by a snapshot (Debezium {@code r}). */
    READ("r"),
    /** Row updated (Debezium {@code u}). */
    UPDATE("u"),
    /** Row deleted (Debezium {@code d}). */
    DELETE("d"),
    /** Table truncated (Debezium {@code t}). */
    TRUNCATE("t");

    private final String code;

    Operation(String code) {
        this.code = code;
    }

    public String code() {
        return code;
    }

    /** True when the change leaves a row image behind (insert-or-update on the target). */
    public boolean isUpsert() {
        return this == CREATE || this == READ || this == UPDATE;
    }

    public static Operation fromCode(String code) {
        for (Operation op : values()) {
            if (op.code.equals(code)) {
                return op;
            }
        }
        return null;
    }
}
