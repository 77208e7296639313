package io.starling.broker.session;

import io.starling.broker.store.SessionRecord;
import java.util.HashSet;
import java.util.List;

/**
 * The packet ids of inbound QoS 2 PUBLISH packets whose PUBREL has not arrived: a PUBLISH with one of them is a
 * duplicate, acknowledged but not routed again (3.1.1 [MQTT-4.3.3-2], 5.0 [MQTT-4.3.3-10]). A change made with a
 * {@link SessionRecord} (the session's, while it is stored) is written to it too.
 *
 * <p>Cost: this object only, until the first inbound QoS 2 PUBLISH; the set is made then and kept. Confined to the
 * session's owner loop.
 */
final class InboundQos2 {

    private HashSet<Integer> awaitingRelease;

    /** Records a packet id; false when it already awaits PUBREL (the PUBLISH is a duplicate). */
    boolean begin(int packetId) {
        if (awaitingRelease == null) {
            awaitingRelease = new HashSet<>();
        }
        return awaitingRelease.add(packetId);
    }

    /** {@link #begin(int)}, writing a new packet id to {@code record} if it is not {@code null}. */
    boolean begin(int packetId, SessionRecord record) {
        boolean added = begin(packetId);
        if (added && record != null) {
            record.inboundQos2(packetId, true);
        }
        return added;
    }

    /** PUBREL: forgets the packet id; false if it was unknown. */
    boolean release(int packetId) {
        return awaitingRelease != null && awaitingRelease.remove(packetId);
    }

    /** {@link #release(int)}, writing the release of a known packet id to {@code record} if it is not {@code null}. */
    boolean release(int packetId, SessionRecord record) {
        boolean removed = release(packetId);
        if (removed && record != null) {
            record.inboundQos2(packetId, false);
        }
        return removed;
    }

    /** Puts the packet id back to what the store holds: awaiting PUBREL, or not. */
    void set(int packetId, boolean awaiting) {
        if (awaiting) {
            begin(packetId);
        } else {
            release(packetId);
        }
    }

    boolean isAwaitingRelease(int packetId) {
        return awaitingRelease != null && awaitingRelease.contains(packetId);
    }

    int size() {
        return awaitingRelease == null ? 0 : awaitingRelease.size();
    }

    void restore(List<Integer> packetIds) {
        if (!packetIds.isEmpty()) {
            if (awaitingRelease == null) {
                awaitingRelease = new HashSet<>();
            }
            awaitingRelease.addAll(packetIds);
        }
    }

    /** The packet ids awaiting PUBREL (a copy). */
    List<Integer> ids() {
        return awaitingRelease == null ? List.of() : List.copyOf(awaitingRelease);
    }

    void clear() {
        if (awaitingRelease != null) {
            awaitingRelease.clear();
        }
    }
}
