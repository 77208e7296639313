package io.starling.broker.store;

import io.starling.broker.retain.RetainedStore;
import io.starling.broker.routing.Message;
import io.starling.broker.session.Delivery;
import io.starling.broker.session.PendingWill;
import io.starling.broker.session.Session;
import io.starling.broker.topic.Subscription;
import java.util.List;
import java.util.function.Consumer;

/**
 * The storage SPI: what the broker keeps beyond a connection, and the durability barrier that acknowledgements
 * wait for. {@link InMemoryStore} ({@code storage: memory}) keeps only retained messages and persists no session;
 * the RocksDB store ({@code storage: rocksdb}) implements every method.
 *
 * <h2>What is stored</h2>
 *
 * Only sessions that outlive their connection (Session Expiry Interval &gt; 0, or Clean Session 0 on 3.1.1) —
 * {@link Session#storesMessages()} — are written: their record ({@link #saveSession}), subscriptions, queued
 * QoS 1/2 deliveries ({@link #append}), outbound QoS 2 state and inbound QoS 2 packet ids. Clean sessions and
 * QoS 0 deliveries never touch the store.
 *
 * <h2>Threads and ordering</h2>
 *
 * Every method except {@link #recover} and {@link #close} is called on an event loop and returns at once: the
 * writes are queued to the store's committer. {@link #whenDurable} orders after every write the calling thread
 * queued before, so a PUBACK given through it follows the {@link #append} of the message it acknowledges (made on
 * the same thread by the router). Session writes are made on the session's owner loop.
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

    /**
     * Runs {@code writes} (on the calling event loop) so that the store writes it makes are committed together, all
     * or none: an inbound QoS 2 packet id with the message it brought, a PUBREL-pending state with the removal of the
     * delivery from the queue. No {@link #whenDurable} inside.
     */
    default void atomically(Runnable writes) {
        writes.run();
    }

    /** Whether sessions that outlive their connection are stored (and recovered after a restart). */
    default boolean persistsSessions() {
        return false;
    }

    /**
     * Reads the stored sessions at start-up, before any connection is accepted (blocking). Queued messages stay on
     * disk: each session learns only how far its queue goes ({@link StoredSession#lastSeq()}) and pages it in with
     * {@link #readQueue} when it has a connection to send to.
     */
    default void recover(Consumer<StoredSession> sink) {
    }

    /**
     * Writes the session's record (on its owner): its expiry, when it was disconnected ({@code 0} while
     * connected) and its Will. The first call for a session also writes its current subscriptions.
     */
    default void saveSession(Session session, long disconnectedAtMillis, PendingWill will) {
    }

    /**
     * Forgets everything stored for the session (on its owner): record, subscriptions, queue, in-flight state.
     * With {@code ended} the session is over and later writes for it are ignored; otherwise (Clean Start on a
     * resumed session) it goes on with an empty state.
     */
    default void deleteSession(Session session, boolean ended) {
    }

    default void saveSubscription(Session session, Subscription subscription) {
    }

    default void deleteSubscription(Session session, String filter) {
    }

    /**
     * Stores a published QoS 1/2 message once, with one queue entry per delivery, then hands each delivery, now
     * {@link Delivery#isStored() stored}, to its session with {@link Session#deliverStored} on the session's
     * owner, in queue order. Called by the router on the publisher's loop; {@code sessions.get(i)} receives
     * {@code deliveries.get(i)}. A session whose stored queue is full does not get the message (counted as
     * dropped).
     */
    default void append(Message message, List<Session> sessions, List<Delivery> deliveries) {
    }

    /**
     * A stored delivery is done (acknowledged, expired, dropped or moved): its queue entry goes. Housekeeping: no
     * acknowledgement depends on it; if it is lost in a failed commit, the delivery comes back after a restart.
     */
    default void ack(Session session, Delivery delivery) {
    }

    /** A stored QoS 2 delivery was sent as PUBLISH with this packet id. */
    default void inflightSent(Session session, int packetId, Delivery delivery) {
    }

    /** PUBREC arrived for a stored QoS 2 delivery: PUBREL is pending for this packet id. */
    default void inflightReleased(Session session, int packetId) {
    }

    /** PUBCOMP arrived: the packet id is free. */
    default void inflightDone(Session session, int packetId) {
    }

    /** An inbound QoS 2 packet id now awaits PUBREL ({@code awaiting}), or no longer does. */
    default void inboundQos2(Session session, int packetId, boolean awaiting) {
    }

    /**
     * Reads up to {@code limit} stored deliveries of the session after queue position {@code afterSeq}, in order,
     * and passes them to {@code onOwner} on the session's owner; an empty list when there are none.
     */
    default void readQueue(Session session, long afterSeq, int limit, Consumer<List<Delivery>> onOwner) {
        session.execute(() -> onOwner.accept(List.of()));
    }

    @Override
    void close();
}
