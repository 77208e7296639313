package io.starling.broker.session;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The packet ids of inbound QoS 2 PUBLISH packets whose PUBREL has not arrived: a PUBLISH with one of them is a
 * duplicate, acknowledged but not routed again (3.1.1 [MQTT-4.3.3-2], 5.0 [MQTT-4.3.3-10]). Confined to the session's
 * owner loop; the session writes the changes to the store.
 */
final class InboundQos2 {

    private final Set<Integer> awaitingRelease = new HashSet<>();

    /** Records a packet id; false when it already awaits PUBREL (the PUBLISH is a duplicate). */
    boolean begin(int packetId) {
        return awaitingRelease.add(packetId);
    }

    /** PUBREL: forgets the packet id; false if it was unknown. */
    boolean release(int packetId) {
        return awaitingRelease.remove(packetId);
    }

    /** Puts the packet id back to what the store holds: awaiting PUBREL, or not. */
    void set(int packetId, boolean awaiting) {
        if (awaiting) {
            awaitingRelease.add(packetId);
        } else {
            awaitingRelease.remove(packetId);
        }
    }

    boolean isAwaitingRelease(int packetId) {
        return awaitingRelease.contains(packetId);
    }

    int size() {
        return awaitingRelease.size();
    }

    void restore(List<Integer> packetIds) {
        awaitingRelease.addAll(packetIds);
    }

    void clear() {
        awaitingRelease.clear();
    }
}
