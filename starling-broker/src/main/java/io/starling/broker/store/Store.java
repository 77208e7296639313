package io.starling.broker.store;

import io.starling.broker.retain.RetainedStore;

/**
 * The storage SPI: what the broker keeps beyond a connection, and the durability barrier that acknowledgements
 * wait for. It is split by concern: {@link #retained()} (retained messages), {@link #sessions()} (session records,
 * subscriptions and in-flight state, one {@link SessionRecord} per session generation), {@link #queues()} (the
 * per-session queues of QoS 1/2 messages, {@link StoredQueue}). {@link InMemoryStore} ({@code storage: memory})
 * keeps only retained messages and persists no session; the RocksDB store ({@code storage: rocksdb}) keeps all.
 *
 * <h2>What is stored</h2>
 *
 * Only sessions that outlive their connection (Session Expiry Interval &gt; 0, or Clean Session 0 on 3.1.1) are
 * written: their record, subscriptions, queued QoS 1/2 deliveries ({@link QueueStore#append}), outbound QoS 2 state
 * and inbound QoS 2 packet ids. Clean sessions and QoS 0 deliveries never touch the store. The store knows nothing
 * of the broker's session object: it talks to a {@link QueueOwner} and hands out typed per-session handles.
 *
 * <h2>Threads and ordering</h2>
 *
 * Every write is called on an event loop and returns at once: the writes are queued to the store's committer.
 * {@link #whenDurable} orders after every write the calling thread queued before, so a PUBACK given through it
 * follows the {@link QueueStore#append} of the message it acknowledges (made on the same thread by the router).
 * A session's writes are made on the session's owner loop.
 */
public interface Store extends AutoCloseable {

    /**
     * The retained messages: the index in the heap, the payloads in the heap ({@code storage: memory}) or in the
     * store, read back a page at a time (see {@link RetainedStore}).
     */
    RetainedStore retained();

    /**
     * Runs {@code action} on the calling event loop once everything the caller has handed to the store so far
     * is as durable as the configuration promises. PUBACK, PUBREC, SUBACK, UNSUBACK and CONNACK are sent through
     * it, so nothing is acknowledged before it is stored. If a write the acknowledgement depends on (one the caller
     * queued since its previous call) could not be stored, {@code onFailure} runs instead: the caller answers with an
     * error, or closes the connection, and undoes what it kept in memory on the promise of that write. Either runs in
     * the order of the calls made on the loop.
     */
    void whenDurable(Runnable action, Runnable onFailure);

    /** Whether the store writes (for the broker's state and the log); always writable for a store in memory. */
    default StoreStatus status() {
        return StoreStatus.OK;
    }

    /** Figures of its writing to disk, for the metrics; {@code null} for a store that does not write to disk. */
    default StoreStats stats() {
        return null;
    }

    /**
     * Runs {@code writes} (on the calling event loop) so that the store writes it makes are committed together, all
     * or none: an inbound QoS 2 packet id with the message it brought, a PUBREL-pending state with the removal of the
     * delivery from the queue. No {@link #whenDurable} inside.
     */
    default void atomically(Runnable writes) {
        writes.run();
    }

    /** The stored sessions; {@code null} when the store keeps none (then {@link #queues()} is {@code null} too). */
    default SessionStore sessions() {
        return null;
    }

    /** The stored queues of the sessions that {@link #sessions()} keeps; {@code null} when it keeps none. */
    default QueueStore queues() {
        return null;
    }

    /** Whether sessions that outlive their connection are stored (and recovered after a restart). */
    default boolean persistsSessions() {
        return sessions() != null;
    }

    @Override
    void close();
}
