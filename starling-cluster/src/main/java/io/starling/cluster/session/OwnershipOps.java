package io.starling.cluster.session;

import com.hazelcast.map.EntryProcessor;
import com.hazelcast.map.ExtendedMapEntry;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The only changes ever made to the ownership map: entry processors, each run atomically on the key's partition
 * owner (and, the same way, on its backup). Values are {@link OwnerRecord}s in bytes. A record that a live node owns
 * never expires; one whose node died ({@link Orphan}) expires with the session's Session Expiry Interval.
 */
final class OwnershipOps {

    /** Added to an orphaned record's time to live while it keeps a delayed Will, so that {@link TakeWill} finds it. */
    static final long WILL_GRACE_SECONDS = 30;
    /** A Session Expiry Interval of this value or more: the session never expires. */
    static final long NEVER = 0xFFFF_FFFFL;

    private OwnershipOps() {
    }

    /** Writes a record that does not expire (a node owns it now). */
    static void owned(Map.Entry<String, byte[]> entry, byte[] value) {
        if (entry instanceof ExtendedMapEntry<String, byte[]> x) {
            x.setValue(value, 0, TimeUnit.SECONDS); // 0: no time to live, whatever the entry had
        } else {
            entry.setValue(value);
        }
    }

    /** Writes a record keeping the expiry time it has (an orphaned record stays as long as it would have). */
    static void keepingExpiry(Map.Entry<String, byte[]> entry, byte[] value) {
        if (entry instanceof ExtendedMapEntry<String, byte[]> x) {
            x.setValueWithoutChangingExpiryTime(value);
        } else {
            entry.setValue(value);
        }
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
            owned(entry, claimed.encode());
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
     * however many run this), {@code null} for the others. An orphaned record expires after the session's Session
     * Expiry Interval (plus {@link #WILL_GRACE_SECONDS} while a delayed Will waits in it), as the session would have
     * on its node; the record of a session with expiry 0 goes at once.
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
            long expiry = r.expirySeconds();
            if (expiry <= 0) {
                entry.setValue(null); // the session ended with its connection (its Will has no delay left)
            } else if (expiry >= NEVER || !(entry instanceof ExtendedMapEntry<String, byte[]> x)) {
                owned(entry, orphan.encode()); // never expires
            } else {
                // the session ends after its Session Expiry Interval unless a client claims it first
                x.setValue(orphan.encode(), expiry + (orphan.will() != null ? WILL_GRACE_SECONDS : 0), TimeUnit.SECONDS);
            }
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
            keepingExpiry(entry, r.withWill(false, null).encode());
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
            owned(entry, new OwnerRecord(node, r == null ? 1 : r.epoch() + 1, false, null, mine.expirySeconds(),
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
            owned(entry, new OwnerRecord(node, epoch, mine.connected(), mine.will(), mine.expirySeconds(),
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
