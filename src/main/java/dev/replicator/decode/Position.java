package dev.replicator.decode;

/**
 * A totally ordered place of a change in the source's history. Two longs compared in order:
 * for Debezium PostgreSQL events {@code (commit, change)} = (the transaction's commit-order LSN, the change's LSN).
 * Snapshot reads use commit 0 so that every streamed change ranks after them.
 */
public record Position(long commit, long change) implements Comparable<Position> {

    @Override
    public int compareTo(Position other) {
        int c = Long.compare(commit, other.commit);
        return c != 0 ? c : Long.compare(change, other.change);
    }

    public boolean isAfter(Position other) {
        return compareTo(other) > 0;
    }

    @Override
    public String toString() {
        return commit + "/" + change;
    }
}
