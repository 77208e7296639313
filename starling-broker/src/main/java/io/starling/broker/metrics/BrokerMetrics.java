package io.starling.broker.metrics;

import io.starling.codec.ProtocolVersion;
import io.starling.codec.ReasonCode;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

/**
 * Broker-wide counters. Thread-safe; cheap to increment from any event loop, no lock, no allocation; read when
 * metrics are scraped or {@code $SYS} is published. Those counted per message (or per read and write) are
 * {@link StripedCounter}s, a slot per thread, so that two event loops counting the same messages do not pass a cache
 * line between their cores on every add; those of rare events (connections, refusals, logins) are
 * {@link LongAdder}s, smaller.
 */
public final class BrokerMetrics {

    /**
     * One PUBLISH in this many, per publishing connection (the first, then every 64th), is timed from its arrival to
     * each of its deliveries ({@link #endToEnd()}); a power of 2.
     */
    public static final int LATENCY_SAMPLE_EVERY = 64;

    /** Network connections accepted (counted when their channel becomes active, before their CONNECT). */
    public final LongAdder connectionsAccepted = new LongAdder();
    /** Deliveries dropped: a full queue, the global queue budget, the stored-bytes bound, a packet too large. */
    public final StripedCounter messagesDropped = new StripedCounter();
    public final StripedCounter messagesExpired = new StripedCounter();
    public final LongAdder protocolErrors = new LongAdder();
    public final LongAdder sessionsExpired = new LongAdder();
    /** Gauge: bytes queued over all sessions (as {@code max-queued-bytes} counts them); see QueueBudget. */
    public final StripedCounter queuedBytes = new StripedCounter();
    /** Gauge: deliveries queued in memory over all sessions (they move with {@link #queuedBytes}). */
    public final StripedCounter queuedMessages = new StripedCounter();
    /** Gauge: outbound QoS 1/2 messages sent and not acknowledged yet, over all sessions. */
    public final StripedCounter inflight = new StripedCounter();
    /** Messages dropped from the largest queues because max-queued-bytes-total was reached (also in messagesDropped). */
    public final StripedCounter messagesShed = new StripedCounter();
    /** Deliveries dropped because a queue was full or the store refused them (also in messagesDropped). */
    public final StripedCounter droppedQueueFull = new StripedCounter();
    /** Deliveries dropped because they exceed the client's Maximum Packet Size (also in messagesDropped). */
    public final LongAdder droppedTooLarge = new LongAdder();
    /** PUBLISHes received that matched no subscription. */
    public final StripedCounter droppedNoSubscribers = new StripedCounter();
    /** Stored deliveries the budget sent back from memory to the store, to be read again later (nothing lost). */
    public final LongAdder storedUnloaded = new LongAdder();
    /** Deliveries withheld and PUBLISHes dropped because the ACL does not allow them. */
    public final StripedCounter messagesNotAuthorized = new StripedCounter();
    /** Retained PUBLISHes whose retention the limits refused (max-retained-messages, max-retained-bytes). */
    public final LongAdder retainedRefused = new LongAdder();
    /** Times a connection stopped being read because it published over max-publish-rate or max-publish-bytes-rate. */
    public final LongAdder publishRateLimited = new LongAdder();
    /** Bytes of MQTT packets read from client connections (TLS and WebSocket framing not counted). */
    public final StripedCounter bytesReceived = new StripedCounter();
    /** Bytes of MQTT packets written to client connections (TLS and WebSocket framing not counted). */
    public final StripedCounter bytesSent = new StripedCounter();
    /** Logins that failed: bad user name or password, or refused by the authenticator. */
    public final LongAdder authFailures = new LongAdder();

    /** PUBLISHes received (and Wills published) by QoS 0, 1, 2. */
    private final StripedCounter[] receivedByQos = striped(3);
    /** PUBLISHes sent to subscribers by QoS 0, 1, 2. */
    private final StripedCounter[] sentByQos = striped(3);
    /** Payload bytes of the PUBLISHes received, by QoS. */
    private final StripedCounter[] receivedBytesByQos = striped(3);
    /** Payload bytes of the PUBLISHes sent to subscribers, by QoS. */
    private final StripedCounter[] sentBytesByQos = striped(3);
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

    private static StripedCounter[] striped(int n) {
        StripedCounter[] a = new StripedCounter[n];
        for (int i = 0; i < n; i++) {
            a[i] = new StripedCounter();
        }
        return a;
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

    /**
     * A PUBLISH of {@code qos} with {@code payloadBytes} of payload was received (or a Will published). Two adds; the
     * totals are the sums over the QoS levels, so nothing else is counted per message.
     */
    public void received(int qos, int payloadBytes) {
        receivedByQos[qos].increment();
        receivedBytesByQos[qos].add(payloadBytes);
    }

    /** A PUBLISH of {@code qos} with {@code payloadBytes} of payload was sent to a subscriber. */
    public void sent(int qos, int payloadBytes) {
        sentByQos[qos].increment();
        sentBytesByQos[qos].add(payloadBytes);
    }

    /** PUBLISH packets received (and Wills published) since start, all QoS levels. */
    public long messagesReceived() {
        return receivedByQos[0].sum() + receivedByQos[1].sum() + receivedByQos[2].sum();
    }

    /** PUBLISH packets sent to subscribers since start, all QoS levels. */
    public long messagesDelivered() {
        return sentByQos[0].sum() + sentByQos[1].sum() + sentByQos[2].sum();
    }

    public long receivedBytesByQos(int qos) {
        return receivedBytesByQos[qos].sum();
    }

    public long sentBytesByQos(int qos) {
        return sentBytesByQos[qos].sum();
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
    /** The traffic with the other nodes of a cluster; {@code null} on a single node. */
    private volatile ClusterTraffic cluster;

    /** Sets the cluster's per-peer traffic for the metrics ({@code null}: none). */
    public void cluster(ClusterTraffic traffic) {
        this.cluster = traffic;
    }

    /** The cluster's per-peer traffic, {@code null} on a single node. */
    public ClusterTraffic cluster() {
        return cluster;
    }

    /** This node's view of its cluster; {@code null} on a single node. */
    private volatile ClusterView clusterView;

    /** Sets this node's view of its cluster for the admin overview ({@code null}: none). */
    public void clusterView(ClusterView view) {
        this.clusterView = view;
    }

    /** This node's view of its cluster, {@code null} on a single node. */
    public ClusterView clusterView() {
        return clusterView;
    }
}
