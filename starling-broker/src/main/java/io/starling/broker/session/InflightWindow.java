package io.starling.broker.session;

import io.starling.broker.message.Delivery;
import io.starling.broker.metrics.StripedCounter;
import io.starling.broker.store.StoredInflight;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A session's outbound QoS 1/2 messages awaiting acknowledgement, by packet id, in the order they were sent (the order
 * they are re-sent in when the session is resumed [MQTT-4.4.0-1]), and the allocation of packet ids that are not in
 * use. Cost: one map entry per in-flight message; the map is made for the first one and kept. Confined to the session's
 * owner loop, except the broker-wide count of messages in flight it keeps up to date ({@code inflight}, a gauge).
 */
final class InflightWindow {

    /** An outbound QoS 1/2 message awaiting its acknowledgement. */
    static final class Entry {
        /** The delivery; {@code null} for a PUBREL recovered from the store (the message itself is done). */
        final Delivery delivery;
        /** PUBREL sent, PUBCOMP awaited; otherwise PUBLISH sent, PUBACK (QoS 1) or PUBREC (QoS 2) awaited. */
        boolean pubrelSent;
        /** Whether the store has an in-flight record of it (stored QoS 2). */
        boolean stored;
        /** A stored one whose record the store failed to write: written again before the PUBLISH is re-sent. */
        boolean unrecorded;

        Entry(Delivery delivery) {
            this.delivery = delivery;
        }
    }

    /** {@code null} until the first message is in flight. */
    private LinkedHashMap<Integer, Entry> entries;
    private int nextPacketId = 1;
    /** The broker-wide number of entries, over all windows. */
    private final StripedCounter total;

    /** A window that counts its entries in {@code total} too. */
    InflightWindow(StripedCounter total) {
        this.total = total;
    }

    /** A window counted nowhere else (for tests). */
    InflightWindow() {
        this(new StripedCounter());
    }

    int size() {
        return entries == null ? 0 : entries.size();
    }

    Entry get(int packetId) {
        return entries == null ? null : entries.get(packetId);
    }

    Entry remove(int packetId) {
        Entry e = entries == null ? null : entries.remove(packetId);
        if (e != null) {
            total.decrement();
        }
        return e;
    }

    private LinkedHashMap<Integer, Entry> entries() {
        if (entries == null) {
            entries = new LinkedHashMap<>();
        }
        return entries;
    }

    /** A packet id not in use, the next after the last one given (1 to 65,535, then round again). */
    int allocatePacketId() {
        while (true) {
            int id = nextPacketId;
            nextPacketId = id == 65_535 ? 1 : id + 1;
            if (entries == null || !entries.containsKey(id)) {
                return id;
            }
        }
    }

    /** A PUBLISH of {@code d} was sent with {@code packetId}. */
    Entry add(int packetId, Delivery d) {
        Entry e = new Entry(d);
        if (entries().put(packetId, e) == null) {
            total.increment();
        }
        return e;
    }

    /**
     * The in-flight state of a session restored from the store, all of it recorded; packet ids go on after the highest.
     * Returns the queue positions of the deliveries in flight, which are not to be queued again when their page is read.
     */
    Set<Long> restore(List<StoredInflight> stored) {
        Set<Long> seqs = new HashSet<>();
        int maxId = 0;
        for (StoredInflight f : stored) {
            Entry e = new Entry(f.delivery());
            e.stored = true;
            if (f.delivery() == null) {
                e.pubrelSent = true;
            } else {
                seqs.add(f.delivery().seq());
            }
            if (entries().put(f.packetId(), e) == null) {
                total.increment();
            }
            maxId = Math.max(maxId, f.packetId());
        }
        nextPacketId = maxId == 65_535 ? 1 : maxId + 1;
        return seqs;
    }

    /**
     * Removes and returns the QoS 1 deliveries that came through shared subscriptions and still wait for PUBACK. A QoS 2
     * one stays: it is completed to this client [MQTT-4.8.2-4].
     */
    List<Delivery> takeSharedQos1() {
        List<Delivery> taken = new ArrayList<>();
        if (entries == null) {
            return taken;
        }
        for (Iterator<Entry> it = entries.values().iterator(); it.hasNext(); ) {
            Entry e = it.next();
            if (e.delivery != null && e.delivery.group() != null && e.delivery.qos() == 1) {
                taken.add(e.delivery);
                it.remove();
                total.decrement();
            }
        }
        return taken;
    }

    /** The entries in the order they were sent (a copy: the caller may change the window while it walks it). */
    List<Map.Entry<Integer, Entry>> snapshot() {
        return entries == null ? new ArrayList<>() : new ArrayList<>(entries.entrySet());
    }

    void clear() {
        if (entries != null) {
            total.add(-entries.size());
            entries.clear();
        }
    }

    /** Forgets everything and starts packet ids again from 1 (Clean Start). */
    void reset() {
        clear();
        nextPacketId = 1;
    }
}
