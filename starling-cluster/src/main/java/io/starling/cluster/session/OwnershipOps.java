package io.starling.cluster.session;

import com.hazelcast.map.EntryProcessor;
import java.util.Map;

/**
 * The only changes ever made to the ownership map: entry processors, each run atomically on the key's partition
 * owner (and, the same way, on its backup). Values are {@link OwnerRecord}s in bytes.
 */
final class OwnershipOps {

    private OwnershipOps() {
    }

    /** Makes {@code node} the owner (epoch + 1, connected, no Will yet); returns the record before. */
    static final class Claim implements EntryProcessor<String, byte[], byte[]> {
        private static final long serialVersionUID = 1L;
        private final String node;

        Claim(String node) {
            this.node = node;
        }

        @Override
        public byte[] process(Map.Entry<String, byte[]> entry) {
            byte[] before = entry.getValue();
            OwnerRecord r = OwnerRecord.decode(before);
            OwnerRecord claimed = r == null ? new OwnerRecord(node, 1, true, null, 0, java.util.List.of())
                    : r.withOwner(node, r.epoch() + 1);
            entry.setValue(claimed.encode());
            return before;
        }
    }

    /** Writes what the owner knows of its session (Will, connected, subscriptions), if {@code node} still owns it. */
    static final class Update implements EntryProcessor<String, byte[], Boolean> {
        private static final long serialVersionUID = 1L;
        private final String node;
        private final byte[] record;

        Update(String node, byte[] record) {
            this.node = node;
            this.record = record;
        }

        @Override
        public Boolean process(Map.Entry<String, byte[]> entry) {
            OwnerRecord r = OwnerRecord.decode(entry.getValue());
            if (r == null || !r.node().equals(node)) {
                return false; // claimed by another node meanwhile: its record wins
            }
            OwnerRecord mine = OwnerRecord.decode(record);
            entry.setValue(new OwnerRecord(node, r.epoch(), mine.connected(), mine.will(), mine.expirySeconds(),
                    mine.subscriptions()).encode());
            return true;
        }
    }

    /** Removes the entry if {@code node} still owns it (the session ended there). */
    static final class Release implements EntryProcessor<String, byte[], Boolean> {
        private static final long serialVersionUID = 1L;
        private final String node;

        Release(String node) {
            this.node = node;
        }

        @Override
        public Boolean process(Map.Entry<String, byte[]> entry) {
            OwnerRecord r = OwnerRecord.decode(entry.getValue());
            if (r != null && r.node().equals(node)) {
                entry.setValue(null);
                return true;
            }
            return false;
        }
    }

    /**
     * For a node that died or left: its sessions have no owner from now on, and their Wills are taken from the
     * records. Returns the record as it was for each entry it orphaned (so each Will is handed to exactly one caller,
     * however many run this), {@code null} for the others.
     */
    static final class Orphan implements EntryProcessor<String, byte[], byte[]> {
        private static final long serialVersionUID = 1L;
        private final String deadNode;

        Orphan(String deadNode) {
            this.deadNode = deadNode;
        }

        @Override
        public byte[] process(Map.Entry<String, byte[]> entry) {
            byte[] before = entry.getValue();
            OwnerRecord r = OwnerRecord.decode(before);
            if (r == null || !r.node().equals(deadNode)) {
                return null;
            }
            OwnerRecord orphan = new OwnerRecord("", r.epoch(), false, r.will() != null && r.will().delaySeconds() > 0
                    ? r.will() : null, r.expirySeconds(), r.subscriptions(), r.parked());
            entry.setValue(orphan.encode());
            return before;
        }
    }

    /**
     * Takes the delayed Will of an orphaned session whose Will Delay Interval has passed, if no node claimed the
     * session since ({@code epoch} unchanged); returns the record before, {@code null} if there is nothing to publish.
     */
    static final class TakeWill implements EntryProcessor<String, byte[], byte[]> {
        private static final long serialVersionUID = 1L;
        private final long epoch;

        TakeWill(long epoch) {
            this.epoch = epoch;
        }

        @Override
        public byte[] process(Map.Entry<String, byte[]> entry) {
            byte[] before = entry.getValue();
            OwnerRecord r = OwnerRecord.decode(before);
            if (r == null || !r.node().isEmpty() || r.epoch() != epoch || r.will() == null) {
                return null;
            }
            entry.setValue(r.withWill(false, null).encode());
            return before;
        }
    }

    /**
     * On a graceful leave of {@code node}: the Wills of the connections it closed were published there, so none of them
     * is left in the records for the survivors to publish again. A Will waiting for its delay (session not connected)
     * stays: the survivors publish it when the delay has passed.
     */
    static final class ClearWills implements EntryProcessor<String, byte[], Boolean> {
        private static final long serialVersionUID = 1L;
        private final String node;

        ClearWills(String node) {
            this.node = node;
        }

        @Override
        public Boolean process(Map.Entry<String, byte[]> entry) {
            OwnerRecord r = OwnerRecord.decode(entry.getValue());
            if (r == null || !r.node().equals(node) || !r.connected()) {
                return null;
            }
            entry.setValue(r.withWill(false, null).encode());
            return true;
        }
    }

    /**
     * At start, for a session this node restored from its store: the record is written if no node owns the client id
     * (after a full restart the map starts empty); returns whether this node owns it now.
     */
    static final class Restore implements EntryProcessor<String, byte[], Boolean> {
        private static final long serialVersionUID = 1L;
        private final String node;
        private final byte[] record;

        Restore(String node, byte[] record) {
            this.node = node;
            this.record = record;
        }

        @Override
        public Boolean process(Map.Entry<String, byte[]> entry) {
            OwnerRecord r = OwnerRecord.decode(entry.getValue());
            if (r != null && !r.node().isEmpty() && !r.node().equals(node)) {
                return false;
            }
            OwnerRecord mine = OwnerRecord.decode(record);
            entry.setValue(new OwnerRecord(node, r == null ? 1 : r.epoch() + 1, false, null, mine.expirySeconds(),
                    mine.subscriptions()).encode());
            return true;
        }
    }

    /**
     * After a partition healed: this node's live session is its own again if no other node owns the client id (the
     * other side left it without owner), keeping the record's subscriptions and this node's Will; returns whether this
     * node owns it now.
     */
    static final class Reassert implements EntryProcessor<String, byte[], Boolean> {
        private static final long serialVersionUID = 1L;
        private final String node;
        private final byte[] record;

        Reassert(String node, byte[] record) {
            this.node = node;
            this.record = record;
        }

        @Override
        public Boolean process(Map.Entry<String, byte[]> entry) {
            OwnerRecord r = OwnerRecord.decode(entry.getValue());
            if (r != null && !r.node().isEmpty() && !r.node().equals(node)) {
                return false;
            }
            OwnerRecord mine = OwnerRecord.decode(record);
            long epoch = r == null ? 1 : r.node().equals(node) ? r.epoch() : r.epoch() + 1;
            entry.setValue(new OwnerRecord(node, epoch, mine.connected(), mine.will(), mine.expirySeconds(),
                    mine.subscriptions()).encode());
            return true;
        }
    }

    /** On a graceful leave of {@code node}: parks its session in the record, if {@code node} still owns it. */
    static final class Park implements EntryProcessor<String, byte[], Boolean> {
        private static final long serialVersionUID = 1L;
        private final String node;
        private final byte[] parked;

        Park(String node, byte[] parked) {
            this.node = node;
            this.parked = parked;
        }

        @Override
        public Boolean process(Map.Entry<String, byte[]> entry) {
            OwnerRecord r = OwnerRecord.decode(entry.getValue());
            if (r == null || !r.node().equals(node)) {
                return false;
            }
            entry.setValue(r.withParked(parked).encode());
            return true;
        }
    }
}
