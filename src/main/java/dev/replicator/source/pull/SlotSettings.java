package dev.replicator.source.pull;

/**
 * Which slot to drain and how.
 *
 * @param slot          the logical replication slot on the source (pgoutput)
 * @param publication   the publication pgoutput filters by
 * @param create        create the publication ({@code FOR ALL TABLES}) and the slot when missing
 * @param peekChanges   messages read per peek of the slot (it returns whole transactions, so a few more)
 * @param groupChanges  source transactions are grouped into one target transaction up to about this many changes
 * @param stream        read over the replication protocol; false: peek through the SQL interface
 */
public record SlotSettings(String slot, String publication, boolean create, int peekChanges, int groupChanges,
        boolean stream) {

    /** Streamed. */
    public SlotSettings(String slot, String publication, boolean create, int peekChanges, int groupChanges) {
        this(slot, publication, create, peekChanges, groupChanges, true);
    }
}
