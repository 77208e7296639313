package io.starling.broker.store;

import io.starling.broker.message.Delivery;
import io.starling.broker.message.PendingWill;
import io.starling.broker.topic.Subscription;
import java.util.Collection;

/**
 * One generation of a stored session: its record, subscriptions, outbound QoS 2 state and inbound QoS 2 packet ids,
 * and its {@link #queue()}. Every method is called on the session's owner loop and returns at once (the write is
 * queued to the store's committer).
 */
public interface SessionRecord {

    /**
     * Writes the session's record: its expiry, when it was disconnected ({@code 0} while connected) and its Will. The
     * first call also writes {@code subscriptions}. Written when a connection attaches (the CONNACK waits for it) and
     * when it ends or its Will is published ({@code disconnectedAtMillis != 0}: housekeeping, nothing waits for it).
     * With an expiry of 0 the record is deleted instead: the session ends with its connection.
     */
    void save(long expirySeconds, long disconnectedAtMillis, PendingWill will, Collection<Subscription> subscriptions);

    /**
     * Clean Start on a resumed session: this generation ends (its record, subscriptions, queue and in-flight state are
     * forgotten) and the returned one, empty, goes on; the caller writes its record next.
     */
    SessionRecord restart();

    /** The session is over: this generation ends, and later writes for it are ignored. */
    void end();

    void saveSubscription(Subscription subscription);

    void deleteSubscription(String filter);

    /** A stored QoS 2 delivery was sent as PUBLISH with this packet id. */
    void inflightSent(int packetId, Delivery delivery);

    /** PUBREC arrived for a stored QoS 2 delivery: PUBREL is pending for this packet id. */
    void inflightReleased(int packetId);

    /** PUBCOMP arrived (or the delivery was given up): the packet id is free. */
    void inflightDone(int packetId);

    /** An inbound QoS 2 packet id now awaits PUBREL ({@code awaiting}), or no longer does. */
    void inboundQos2(int packetId, boolean awaiting);

    /** This generation's queue of QoS 1/2 deliveries. */
    StoredQueue queue();
}
