package io.starling.store.rocksdb;

import java.nio.charset.StandardCharsets;

/**
 * The key spaces of the database, one RocksDB column family each (see {@link RocksDbStore} for the layout).
 * All are created when a database is created, including those no code writes yet, so that adding their use
 * does not change the schema.
 */
public enum KeySpace {

    /** Metadata: the schema version. RocksDB's own {@code default} column family. */
    META("default", false),
    /** Retained messages: topic → message record. */
    RETAINED("retained", false),
    /**
     * The index of the retained messages: topic → size and expiry, what start-up reads instead of the records
     * (schema version 2).
     */
    RETAINED_INDEX("retained-index", false),
    /** Sessions: client id → session record (expiry, will). */
    SESSIONS("sessions", false),
    /** Subscriptions: session prefix, filter → subscription options. */
    SUBSCRIPTIONS("subscriptions", false),
    /** Messages, each stored once however many sessions queue it: message id → message record. */
    MESSAGES("messages", true),
    /** Per-session queues of message references: session prefix, sequence → message id. */
    QUEUES("queues", true),
    /** Outbound in-flight state (QoS 1/2, PUBREL pending): session prefix, packet id → state. */
    INFLIGHT("inflight", true),
    /** Inbound QoS 2 packet ids awaiting PUBREL: session prefix, packet id → nothing. */
    INBOUND_QOS2("inbound-qos2", true);

    private final String columnFamily;
    private final boolean queueLike;

    KeySpace(String columnFamily, boolean queueLike) {
        this.columnFamily = columnFamily;
        this.queueLike = queueLike;
    }

    /** Name of the column family. */
    public String columnFamily() {
        return columnFamily;
    }

    /** The key space of a column family name, or {@code null} for one this version does not know. */
    static KeySpace ofColumnFamily(byte[] name) {
        String n = new String(name, StandardCharsets.UTF_8);
        for (KeySpace space : values()) {
            if (space.columnFamily.equals(n)) {
                return space;
            }
        }
        return null;
    }

    byte[] columnFamilyBytes() {
        return columnFamily.getBytes(StandardCharsets.UTF_8);
    }

    /**
     * Whether entries are short-lived (written, read once, deleted): such spaces get compaction that removes
     * deletion markers early and no Bloom filters.
     */
    public boolean queueLike() {
        return queueLike;
    }
}
