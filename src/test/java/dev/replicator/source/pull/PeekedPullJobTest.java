package dev.replicator.source.pull;

/** Every pull test again with {@code replicator.pull.read=peek}: the slot peeked through the SQL interface. */
class PeekedPullJobTest extends PullJobTest {

    @Override
    boolean stream() {
        return false;
    }
}
