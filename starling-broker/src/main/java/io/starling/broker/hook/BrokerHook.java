package io.starling.broker.hook;

import io.starling.broker.message.Message;

/**
 * Events of the broker for integrations (webhooks): called where these things happen, on the event loop that owns
 * the session or connection. Set with {@link io.starling.broker.Broker#hook(BrokerHook)}; without one ({@code null},
 * the default) the broker calls nothing and pays one null check.
 *
 * <p>Implementations must return at once and never block, lock or do I/O: they copy what they need into a bounded
 * structure of their own and do the rest on their own threads. Thread-safety: called from every event loop at once.
 */
public interface BrokerHook {

    /**
     * A connection was attached to the session of {@code clientId} (before CONNACK).
     *
     * @param client who connected, as operators see it; {@code null} when the transport does not say
     */
    void clientConnected(String clientId, Client client, boolean sessionPresent);

    /**
     * The connection of the session of {@code clientId} ended ({@code reason}: {@code closed} or {@code taken-over}).
     */
    void clientDisconnected(String clientId, Client client, String reason);

    /**
     * Who a connection is.
     *
     * @param user the authenticated user name, {@code null} for anonymous
     * @param address the client's address and port
     * @param listener the listener type ({@code tcp}, {@code tls}, {@code ws}, {@code wss})
     * @param protocol {@code 3.1}, {@code 3.1.1} or {@code 5.0}
     * @param keepAliveSeconds the Keep Alive in force
     */
    record Client(String user, String address, String listener, String protocol, int keepAliveSeconds) {
    }

    /** A new session was created for {@code clientId} (none existed, or Clean Start discarded the old one). */
    void sessionCreated(String clientId);

    /** The offline session of {@code clientId} reached its Session Expiry Interval and ended. */
    void sessionExpired(String clientId);

    /** {@code clientId} subscribed (or replaced a subscription) to {@code filter} with maximum QoS {@code qos}. */
    void subscribed(String clientId, String filter, int qos);

    /** {@code clientId} removed its subscription to {@code filter}. */
    void unsubscribed(String clientId, String filter);

    /**
     * A client's PUBLISH (after its ACL check) or a Will Message was published: routed to the matching subscriptions
     * (a 5.0 QoS 1/2 PUBLISH refused with 0x97 is not reported). {@code m} is immutable, its payload must not be
     * changed.
     */
    void published(Message m);
}
