package io.starling.broker.metrics;

import io.starling.codec.ProtocolVersion;
import io.starling.codec.ReasonCode;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

/**
 * Broker-wide counters. Thread-safe; cheap to increment from any event loop: every figure is a {@link LongAdder}
 * (striped, no lock, no allocation), read when metrics are scraped or {@code $SYS} is published.
 */
public final class BrokerMetrics {

    /**
     * One PUBLISH in this many, per publishing connection (the first, then every 64th), is timed from its arrival to
     * each of its deliveries ({@link #endToEnd()}); a power of 2.
     */
    public static final int LATENCY_SAMPLE_EVERY = 64;

    /** Network connections accepted (counted when their channel becomes active, before their CONNECT). */
    public final LongAdder connectionsAccepted = new LongAdder();
    public final LongAdder messagesReceived = new LongAdder();
    public final LongAdder messagesDelivered = new LongAdder();
    /** Deliveries dropped: a full queue, the global queue budget, the stored-bytes bound, a packet too large. */
    public final LongAdder messagesDropped = new LongAdder();
    public final LongAdder messagesExpired = new LongAdder();
    public final LongAdder protocolErrors = new LongAdder();
    public final LongAdder sessionsExpired = new LongAdder();
    /** Gauge: bytes queued over all sessions (as {@code max-queued-bytes} counts them); see QueueBudget. */
    public final LongAdder queuedBytes = new LongAdder();
    /** Gauge: deliveries queued in memory over all sessions (they move with {@link #queuedBytes}). */
    public final LongAdder queuedMessages = new LongAdder();
    /** Gauge: outbound QoS 1/2 messages sent and not acknowledged yet, over all sessions. */
    public final LongAdder inflight = new LongAdder();
    /** Messages dropped from the largest queues because max-queued-bytes-total was reached (also in messagesDropped). */
    public final LongAdder messagesShed = new LongAdder();
    /** Deliveries dropped because a queue was full or the store refused them (also in messagesDropped). */
    public final LongAdder droppedQueueFull = new LongAdder();
    /** Deliveries dropped because they exceed the client's Maximum Packet Size (also in messagesDropped). */
    public final LongAdder droppedTooLarge = new LongAdder();
    /** PUBLISHes received that matched no subscription. */
    public final LongAdder droppedNoSubscribers = new LongAdder();
    /** Stored deliveries the budget sent back from memory to the store, to be read again later (nothing lost). */
    public final LongAdder storedUnloaded = new LongAdder();
    /** Deliveries withheld and PUBLISHes dropped because the ACL does not allow them. */
    public final LongAdder messagesNotAuthorized = new LongAdder();
    /** Retained PUBLISHes whose retention the limits refused (max-retained-messages, max-retained-bytes). */
    public final LongAdder retainedRefused = new LongAdder();
    /** Times a connection stopped being read because it published over max-publish-rate or max-publish-bytes-rate. */
    public final LongAdder publishRateLimited = new LongAdder();
    /** Bytes of MQTT packets read from client connections (TLS and WebSocket framing not counted). */
    public final LongAdder bytesReceived = new LongAdder();
    /** Bytes of MQTT packets written to client connections (TLS and WebSocket framing not counted). */
    public final LongAdder bytesSent = new LongAdder();
    /** Logins that failed: bad user name or password, or refused by the authenticator. */
    public final LongAdder authFailures = new LongAdder();

    /** PUBLISHes received (and Wills published) by QoS 0, 1, 2. */
    private final LongAdder[] receivedByQos = adders(3);
    /** PUBLISHes sent to subscribers by QoS 0, 1, 2. */
    private final LongAdder[] sentByQos = adders(3);
    /** ACL denials by {@link AclAction}. */
    private final LongAdder[] aclDenied = adders(AclAction.values().length);
    /** CONNECTs refused, by the ordinal of the CONNACK reason code (5.0 names, also for 3.x clients). */
    private final LongAdder[] refusedByReason = adders(ReasonCode.values().length);
    /** Connections whose CONNECT succeeded, by listener type and protocol version. */
    private final LongAdder[] connected = adders(Transport.values().length * ProtocolVersion.values().length);
    /** Connections open now after a successful CONNECT, by listener type and protocol version. */
    private final LongAdder[] connectedOpen = adders(connected.length);

    private volatile LatencyRecorder endToEnd = LatencyRecorder.NONE;
    private volatile LongSupplier blockedAddresses = () -> 0;

    /** The transport of a listener, as its type is named in the configuration. */
    public enum Transport {
        TCP, TLS, WS, WSS;

        /** The value of the {@code listener} tag: {@code tcp}, {@code tls}, {@code ws}, {@code wss}. */
        public String tag() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** What the ACL denied. */
    public enum AclAction {
        /** A PUBLISH (or a Will) the client may not make. */
        PUBLISH,
        /** A SUBSCRIBE filter the client may not subscribe to. */
        SUBSCRIBE,
        /** A delivery withheld because the subscriber may no longer read the topic. */
        DELIVER;

        /** The value of the {@code action} tag. */
        public String tag() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** Takes durations in nanoseconds (a histogram of the metrics registry); called from any thread. */
    @FunctionalInterface
    public interface LatencyRecorder {
        /** Records nothing. */
        LatencyRecorder NONE = nanos -> { };

        void record(long nanos);
    }

    private static LongAdder[] adders(int n) {
        LongAdder[] a = new LongAdder[n];
        for (int i = 0; i < n; i++) {
            a[i] = new LongAdder();
        }
        return a;
    }

    private static int index(Transport listener, ProtocolVersion version) {
        return listener.ordinal() * ProtocolVersion.values().length + version.ordinal();
    }

    /** A PUBLISH of {@code qos} was received (or a Will published). */
    public void received(int qos) {
        messagesReceived.increment();
        receivedByQos[qos].increment();
    }

    /** A PUBLISH of {@code qos} was sent to a subscriber. */
    public void sent(int qos) {
        messagesDelivered.increment();
        sentByQos[qos].increment();
    }

    public long receivedByQos(int qos) {
        return receivedByQos[qos].sum();
    }

    public long sentByQos(int qos) {
        return sentByQos[qos].sum();
    }

    /** The ACL denied {@code action}; also counted in {@link #messagesNotAuthorized} unless it is a SUBSCRIBE. */
    public void aclDenied(AclAction action) {
        aclDenied[action.ordinal()].increment();
        if (action != AclAction.SUBSCRIBE) {
            messagesNotAuthorized.increment();
        }
    }

    public long aclDenials(AclAction action) {
        return aclDenied[action.ordinal()].sum();
    }

    /** A CONNECT was refused with {@code reason} (its CONNACK's, or the one it would have had in 5.0). */
    public void connectRefused(ReasonCode reason) {
        refusedByReason[reason.ordinal()].increment();
    }

    public long connectsRefused(ReasonCode reason) {
        return refusedByReason[reason.ordinal()].sum();
    }

    /** A CONNECT succeeded on a listener of type {@code listener}: counted, and open until {@link #disconnected}. */
    public void connected(Transport listener, ProtocolVersion version) {
        int i = index(listener, version);
        connected[i].increment();
        connectedOpen[i].increment();
    }

    /** A connection counted by {@link #connected} has closed. */
    public void disconnected(Transport listener, ProtocolVersion version) {
        connectedOpen[index(listener, version)].decrement();
    }

    /** Connections whose CONNECT succeeded since start, on listeners of type {@code listener} with {@code version}. */
    public long connects(Transport listener, ProtocolVersion version) {
        return connected[index(listener, version)].sum();
    }

    /** Connections open now that completed CONNECT, on listeners of type {@code listener} with {@code version}. */
    public long connectedOpen(Transport listener, ProtocolVersion version) {
        return connectedOpen[index(listener, version)].sum();
    }

    /** Where the sampled publish-to-delivery latencies go; {@link LatencyRecorder#NONE} until metrics are served. */
    public LatencyRecorder endToEnd() {
        return endToEnd;
    }

    public void endToEnd(LatencyRecorder recorder) {
        this.endToEnd = recorder;
    }

    /** Addresses blocked now after failed logins. */
    public long blockedAddresses() {
        return blockedAddresses.getAsLong();
    }

    /** Sets where {@link #blockedAddresses()} is read from (the broker's failed-login limiter). */
    public void blockedAddresses(LongSupplier source) {
        this.blockedAddresses = source;
    }
}
