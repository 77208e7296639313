package io.starling.server.admin;

import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import io.netty.util.internal.PlatformDependent;
import io.starling.broker.Broker;
import io.starling.broker.metrics.BrokerMetrics;
import io.starling.broker.metrics.StripedCounter;
import io.starling.broker.session.Session;
import io.starling.broker.store.StoreStats;
import io.starling.broker.topic.SubscriptionIndex;
import io.starling.codec.ProtocolVersion;
import io.starling.codec.ReasonCode;
import io.starling.server.transport.ConnectionGate;
import io.starling.server.transport.IncompletePacketBudget;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.ToDoubleFunction;

/**
 * The meters of {@code GET /metrics}: most read a figure the broker keeps (its {@link BrokerMetrics} counters, the
 * connection gate, the session manager, the subscription index, the retained store, the store's status and
 * {@link StoreStats}) when it is scraped, so they cost at most a striped-counter addition where their event happens.
 * Two are histograms recorded where their events happen: the store's commits (on the committer thread, once per
 * batch) and the publish-to-delivery latency (one PUBLISH in {@link BrokerMetrics#LATENCY_SAMPLE_EVERY} per
 * connection). Plus Micrometer's JVM binders and Netty's direct memory.
 *
 * <p>Names are written with dots and become Prometheus names on export: {@code starling.messages.received} as a
 * counter is {@code starling_messages_received_total}; a base unit of bytes adds {@code _bytes}, a timer is in
 * seconds ({@code _seconds_bucket}, {@code _count}, {@code _sum}, {@code _max}). The table of names is in
 * docs/operations.md.
 */
final class StarlingMetrics implements AutoCloseable {

    private final JvmGcMetrics gc = new JvmGcMetrics();

    /** Registers the meters of the process with {@code registry}: the JVM's and Netty's direct memory. */
    StarlingMetrics(MeterRegistry registry) {
        gauge(registry, "starling.netty.direct.memory.used", "bytes", ByteBufAllocator.DEFAULT,
                StarlingMetrics::usedDirectMemory, "direct memory used by Netty's buffers");

        new JvmMemoryMetrics().bindTo(registry);
        gc.bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ClassLoaderMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
    }

    /** The CONNACK reason codes a CONNECT can be refused with: the values of the {@code reason} tag. */
    static final List<ReasonCode> CONNECT_REFUSALS = List.of(ReasonCode.UNSPECIFIED_ERROR, ReasonCode.MALFORMED_PACKET,
            ReasonCode.PROTOCOL_ERROR, ReasonCode.IMPLEMENTATION_SPECIFIC_ERROR, ReasonCode.UNSUPPORTED_PROTOCOL_VERSION,
            ReasonCode.CLIENT_IDENTIFIER_NOT_VALID, ReasonCode.BAD_USER_NAME_OR_PASSWORD, ReasonCode.NOT_AUTHORIZED,
            ReasonCode.SERVER_UNAVAILABLE, ReasonCode.SERVER_BUSY, ReasonCode.BANNED, ReasonCode.BAD_AUTHENTICATION_METHOD,
            ReasonCode.TOPIC_NAME_INVALID, ReasonCode.PACKET_TOO_LARGE, ReasonCode.QUOTA_EXCEEDED,
            ReasonCode.PAYLOAD_FORMAT_INVALID, ReasonCode.RETAIN_NOT_SUPPORTED, ReasonCode.QOS_NOT_SUPPORTED,
            ReasonCode.USE_ANOTHER_SERVER, ReasonCode.SERVER_MOVED, ReasonCode.CONNECTION_RATE_EXCEEDED);

    /** The bounds of the latency histograms: from 50 µs to 10 s. */
    private static final Duration MIN_LATENCY = Duration.ofNanos(50_000);
    private static final Duration MAX_LATENCY = Duration.ofSeconds(10);

    /** The figures of a broker without webhooks. */
    private static final io.starling.broker.hook.HookStats NO_HOOKS = new io.starling.broker.hook.HookStats() {
        @Override
        public long sent() {
            return 0;
        }

        @Override
        public long failed() {
            return 0;
        }

        @Override
        public long retried() {
            return 0;
        }

        @Override
        public long dropped() {
            return 0;
        }

        @Override
        public long queued() {
            return 0;
        }
    };

    /** The figures of a store that does not write to disk. */
    private static final StoreStats NO_STORE_STATS = new StoreStats() {
        @Override
        public long commits() {
            return 0;
        }

        @Override
        public long bytesWritten() {
            return 0;
        }

        @Override
        public long diskUsedBytes() {
            return 0;
        }

        @Override
        public long queuedBytes() {
            return 0;
        }

        @Override
        public void observeCommits(CommitObserver observer) {
            // never commits
        }
    };

    /** Registers the meters of the broker of {@code ctx} with {@code registry}. */
    static void bindBroker(MeterRegistry registry, AdminContext ctx) {
        Broker broker = ctx.broker();
        BrokerMetrics m = broker.metrics();
        bindConnections(registry, ctx, m);
        bindMessages(registry, m);
        bindSecurity(registry, broker, m);
        // registered without webhooks too (all zero then), so that the set of metrics does not depend on the config
        bindWebhooks(registry, broker.hook() instanceof io.starling.broker.hook.HookStats hooks ? hooks : NO_HOOKS);

        IncompletePacketBudget incomplete = ctx.incompletePackets();
        gauge(registry, "starling.incomplete.packets", "bytes", incomplete, IncompletePacketBudget::heldBytes,
                "bytes buffered for packets whose last byte has not arrived yet, over all connections");
        FunctionCounter.builder("starling.incomplete.packets.closed", incomplete,
                        b -> b.closed(IncompletePacketBudget.Cause.BYTES))
                .tag("cause", "bytes")
                .description("connections closed with an incomplete packet since start, by cause")
                .register(registry);
        FunctionCounter.builder("starling.incomplete.packets.closed", incomplete,
                        b -> b.closed(IncompletePacketBudget.Cause.TIMEOUT))
                .tag("cause", "timeout")
                .description("connections closed with an incomplete packet since start, by cause")
                .register(registry);

        gauge(registry, "starling.sessions", null, broker, b -> b.sessions().count(),
                "sessions held now, online and offline");
        gauge(registry, "starling.sessions.online", null, broker, b -> countSessions(b, true),
                "sessions with a client connected now");
        gauge(registry, "starling.sessions.offline", null, broker, b -> countSessions(b, false),
                "sessions that outlive their connection and have none now");
        counter(registry, "starling.sessions.expired", m.sessionsExpired,
                "sessions removed because their expiry interval ran out since start");
        SubscriptionIndex index = broker.subscriptionIndex();
        gauge(registry, "starling.subscriptions", null, index, SubscriptionIndex::size,
                "subscriptions now, ordinary and shared (one per client and filter)");
        gauge(registry, "starling.subscriptions.shared", null, index, SubscriptionIndex::sharedCount,
                "shared subscriptions now (each member of a group counts)");
        gauge(registry, "starling.subscriptions.wildcard", null, index, SubscriptionIndex::wildcardCount,
                "ordinary subscriptions now whose filter has a wildcard (+ or #)");
        gauge(registry, "starling.retained.messages", null, broker, b -> b.retained().size(),
                "retained messages held now");
        gauge(registry, "starling.retained", "bytes", broker, b -> b.retained().bytes(),
                "bytes of retained messages counted against max-retained-bytes");
        bindStore(registry, broker);
    }

    private static void bindConnections(MeterRegistry registry, AdminContext ctx, BrokerMetrics m) {
        counter(registry, "starling.connections.accepted", m.connectionsAccepted,
                "network connections accepted (admitted at accept, before their CONNECT) since start");
        var gate = ctx.gate();
        gauge(registry, "starling.connections.open", null, gate, g -> g.openConnections(),
                "client connections open now over all listeners (admitted, not closed yet)");
        String refusedHelp = "connections refused since start: at accept (max_connections, listener_max_connections,"
                + " connect_rate) or at CONNECT (the CONNACK reason code)";
        for (ConnectionGate.Refusal why : ConnectionGate.Refusal.values()) {
            FunctionCounter.builder("starling.connections.refused", gate, g -> g.refusedConnections(why))
                    .tag("reason", why.tag()).description(refusedHelp).register(registry);
        }
        for (ReasonCode reason : CONNECT_REFUSALS) {
            FunctionCounter.builder("starling.connections.refused", m, x -> x.connectsRefused(reason))
                    .tag("reason", reason.name().toLowerCase(Locale.ROOT)).description(refusedHelp).register(registry);
        }
        for (BrokerMetrics.Transport type : BrokerMetrics.Transport.values()) {
            for (ProtocolVersion version : ProtocolVersion.values()) {
                Tags tags = Tags.of("listener", type.tag(), "protocol", protocolTag(version));
                FunctionCounter.builder("starling.connections.connected", m, x -> x.connects(type, version))
                        .tags(tags)
                        .description("connections whose CONNECT succeeded since start, by listener type and protocol")
                        .register(registry);
                Gauge.builder("starling.connections.active", m, x -> x.connectedOpen(type, version))
                        .tags(tags).strongReference(true)
                        .description("connections open now whose CONNECT succeeded, by listener type and protocol")
                        .register(registry);
            }
        }
        counter(registry, "starling.protocol.errors", m.protocolErrors,
                "connections closed for a protocol error since start");
        counter(registry, "starling.network.received", "bytes", m.bytesReceived,
                "bytes of MQTT packets read from client connections since start (TLS and WebSocket framing not counted)");
        counter(registry, "starling.network.sent", "bytes", m.bytesSent,
                "bytes of MQTT packets written to client connections since start (TLS and WebSocket framing not counted)");
    }

    private static void bindMessages(MeterRegistry registry, BrokerMetrics m) {
        for (int q = 0; q <= 2; q++) {
            int qos = q;
            FunctionCounter.builder("starling.messages.received", m, x -> x.receivedByQos(qos))
                    .tag("qos", Integer.toString(qos))
                    .description("PUBLISH packets received from clients (and Wills published) since start, by QoS")
                    .register(registry);
            FunctionCounter.builder("starling.messages.delivered", m, x -> x.sentByQos(qos))
                    .tag("qos", Integer.toString(qos))
                    .description("PUBLISH packets sent to subscribers since start, by the QoS of the delivery")
                    .register(registry);
            FunctionCounter.builder("starling.messages.received.payload", m, x -> x.receivedBytesByQos(qos))
                    .tag("qos", Integer.toString(qos)).baseUnit("bytes")
                    .description("payload bytes of the PUBLISH packets received (and Wills published) since start, by QoS")
                    .register(registry);
            FunctionCounter.builder("starling.messages.delivered.payload", m, x -> x.sentBytesByQos(qos))
                    .tag("qos", Integer.toString(qos)).baseUnit("bytes")
                    .description("payload bytes of the PUBLISH packets sent to subscribers since start, by the QoS of the delivery")
                    .register(registry);
        }
        String droppedHelp = "messages and deliveries dropped since start, by reason";
        dropped(registry, "queue_full", m.droppedQueueFull, droppedHelp);
        dropped(registry, "shed", m.messagesShed, droppedHelp);
        dropped(registry, "too_large", m.droppedTooLarge, droppedHelp);
        dropped(registry, "expired", m.messagesExpired, droppedHelp);
        dropped(registry, "not_authorized", m.messagesNotAuthorized, droppedHelp);
        dropped(registry, "no_subscribers", m.droppedNoSubscribers, droppedHelp);
        counter(registry, "starling.messages.expired", m.messagesExpired,
                "messages whose Message Expiry Interval ran out before delivery since start");
        counter(registry, "starling.messages.shed", m.messagesShed,
                "messages dropped from the largest queues because max-queued-bytes-total was reached (also counted as dropped)");
        counter(registry, "starling.messages.not.authorized", m.messagesNotAuthorized,
                "deliveries withheld and PUBLISH packets dropped because the ACL does not allow them since start");
        counter(registry, "starling.retained.refused", m.retainedRefused,
                "retained PUBLISH packets whose retention max-retained-messages or max-retained-bytes refused");
        counter(registry, "starling.publish.rate.limited", m.publishRateLimited,
                "times a connection stopped being read because it published over max-publish-rate or max-publish-bytes-rate");
        counter(registry, "starling.stored.unloaded", m.storedUnloaded,
                "stored deliveries sent back from memory to the store by the queue budget (read again later)");
        gauge(registry, "starling.queued", "bytes", m.queuedBytes, StripedCounter::sum,
                "bytes queued over all sessions (as max-queued-bytes counts them)");
        gauge(registry, "starling.queued.messages", null, m.queuedMessages, StripedCounter::sum,
                "deliveries queued in memory over all sessions, waiting to be sent");
        gauge(registry, "starling.messages.inflight", null, m.inflight, StripedCounter::sum,
                "QoS 1 and 2 messages sent to clients and not acknowledged yet, over all sessions");
        Timer latency = Timer.builder("starling.delivery.latency")
                .description("time from a PUBLISH's arrival to its writing to a subscriber; one PUBLISH in "
                        + BrokerMetrics.LATENCY_SAMPLE_EVERY + " per connection is timed")
                .publishPercentileHistogram()
                .minimumExpectedValue(MIN_LATENCY)
                .maximumExpectedValue(MAX_LATENCY)
                .register(registry);
        m.endToEnd(nanos -> latency.record(nanos, TimeUnit.NANOSECONDS));
    }

    /** {@code starling_webhook_*}: events sent, failed, retried, dropped, and queued now (docs/integrations.md). */
    private static void bindWebhooks(MeterRegistry registry, io.starling.broker.hook.HookStats h) {
        FunctionCounter.builder("starling.webhook.sent", h, io.starling.broker.hook.HookStats::sent)
                .description("webhook events delivered (2xx)").register(registry);
        FunctionCounter.builder("starling.webhook.failed", h, io.starling.broker.hook.HookStats::failed)
                .description("webhook events given up on after their retries").register(registry);
        FunctionCounter.builder("starling.webhook.retried", h, io.starling.broker.hook.HookStats::retried)
                .description("webhook requests retried").register(registry);
        FunctionCounter.builder("starling.webhook.dropped", h, io.starling.broker.hook.HookStats::dropped)
                .description("webhook events dropped because a receiver's queue was full").register(registry);
        gauge(registry, "starling.webhook.queued", null, h, io.starling.broker.hook.HookStats::queued,
                "webhook events waiting to be sent");
    }

    private static void bindSecurity(MeterRegistry registry, Broker broker, BrokerMetrics m) {
        gauge(registry, "starling.flapping.banned.clients", null, broker, b -> b.flapping().banned(),
                "client ids whose connections are refused now for connecting too often (flapping-*)");
        counter(registry, "starling.auth.failures", m.authFailures,
                "failed logins since start (bad user name or password)");
        gauge(registry, "starling.auth.blocked.addresses", null, m, BrokerMetrics::blockedAddresses,
                "addresses whose CONNECTs are refused now after too many failed logins");
        for (BrokerMetrics.AclAction action : BrokerMetrics.AclAction.values()) {
            FunctionCounter.builder("starling.acl.denied", m, x -> x.aclDenials(action))
                    .tag("action", action.tag())
                    .description("what the ACL refused since start: PUBLISH packets and Wills (publish), SUBSCRIBE"
                            + " filters (subscribe), deliveries withheld (deliver)")
                    .register(registry);
        }
    }

    private static void bindStore(MeterRegistry registry, Broker broker) {
        gauge(registry, "starling.store.writable", null, broker, b -> b.store().status().writable() ? 1 : 0,
                "1 while the store's commits succeed, 0 while they fail");
        FunctionCounter.builder("starling.store.refused.acknowledgements", broker,
                        b -> b.store().status().refusedAcknowledgements())
                .description("acknowledgements refused since start because what they depend on was not stored")
                .register(registry);
        // storage: memory writes nothing: its figures stay at 0, so the same meters are there with either storage
        StoreStats stats = broker.store().stats() != null ? broker.store().stats() : NO_STORE_STATS;
        FunctionCounter.builder("starling.store.commits", stats, StoreStats::commits)
                .description("commit batches written by the store since start").register(registry);
        FunctionCounter.builder("starling.store.written", stats, StoreStats::bytesWritten).baseUnit("bytes")
                .description("bytes of the commit batches written by the store since start").register(registry);
        gauge(registry, "starling.store.disk.used", "bytes", stats, StoreStats::diskUsedBytes,
                "bytes of the store's files now (tables, write-ahead log, manifests)");
        gauge(registry, "starling.store.queued", "bytes", stats, StoreStats::queuedBytes,
                "bytes in the stored queues of the sessions now, as max-stored-bytes-total counts them");
        Timer commit = Timer.builder("starling.store.commit")
                .description("time of one commit batch: the write, and its fsync with fsync: always")
                .publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofNanos(10_000))
                .maximumExpectedValue(MAX_LATENCY)
                .register(registry);
        DistributionSummary size = DistributionSummary.builder("starling.store.commit.operations")
                .description("writes (puts and deletes) per commit batch")
                .publishPercentileHistogram()
                .minimumExpectedValue(1.0)
                .maximumExpectedValue(100_000.0)
                .register(registry);
        stats.observeCommits((nanos, operations, bytes) -> {
            commit.record(nanos, TimeUnit.NANOSECONDS);
            size.record(operations);
        });
    }

    private static void dropped(MeterRegistry registry, String reason, StripedCounter c, String description) {
        FunctionCounter.builder("starling.messages.dropped", c, StripedCounter::sum).tag("reason", reason)
                .description(description).register(registry);
    }

    private static void dropped(MeterRegistry registry, String reason, LongAdder adder, String description) {
        FunctionCounter.builder("starling.messages.dropped", adder, LongAdder::sum).tag("reason", reason)
                .description(description).register(registry);
    }

    /** The sessions online (or offline) now: one walk over the sessions, reading a flag safe to read anywhere. */
    private static long countSessions(Broker broker, boolean online) {
        long n = 0;
        for (Session s : broker.sessions().all()) {
            if (s.isOnline() == online) {
                n++;
            }
        }
        return n;
    }

    /** {@code 3.1}, {@code 3.1.1} or {@code 5.0}. */
    static String protocolTag(ProtocolVersion version) {
        return switch (version) {
            case MQTT_3_1 -> "3.1";
            case MQTT_3_1_1 -> "3.1.1";
            case MQTT_5 -> "5.0";
        };
    }

    /** The default allocator's direct memory, or Netty's own count of it where the allocator keeps none. */
    private static double usedDirectMemory(ByteBufAllocator allocator) {
        if (allocator instanceof ByteBufAllocatorMetricProvider p) {
            return p.metric().usedDirectMemory();
        }
        return PlatformDependent.usedDirectMemory();
    }

    /**
     * Registers the meters of the cluster's peers not registered yet (tag {@code peer}): messages and bytes sent and
     * received, messages sent again after a reconnect, duplicates dropped, messages dropped at the bound of what waits,
     * connections, what waits now and whether the link is up. Called before each scrape, since peers appear as they
     * join; a peer already registered costs a lookup. Nothing on a single node.
     */
    static void bindCluster(MeterRegistry registry, Broker broker) {
        io.starling.broker.metrics.ClusterTraffic traffic = broker.metrics().cluster();
        if (traffic == null) {
            return;
        }
        for (io.starling.broker.metrics.ClusterTraffic.Peer p : traffic.peers()) {
            Tags t = Tags.of("peer", p.name());
            peerCounter(registry, "starling.cluster.messages.sent", null, t, p, p2 -> p2.messagesSent(),
                    "messages sent to the peer over the node link");
            peerCounter(registry, "starling.cluster.sent", "bytes", t, p, p2 -> p2.bytesSent(),
                    "bytes of frames sent to the peer over the node link");
            peerCounter(registry, "starling.cluster.messages.received", null, t, p, p2 -> p2.messagesReceived(),
                    "messages received from the peer and routed here");
            peerCounter(registry, "starling.cluster.received", "bytes", t, p, p2 -> p2.bytesReceived(),
                    "bytes of frames received from the peer");
            peerCounter(registry, "starling.cluster.messages.resent", null, t, p, p2 -> p2.resent(),
                    "messages sent to the peer again after a reconnect");
            peerCounter(registry, "starling.cluster.messages.duplicates", null, t, p, p2 -> p2.duplicatesDropped(),
                    "messages the peer sent again that were already applied here, dropped");
            peerCounter(registry, "starling.cluster.messages.overflow", null, t, p, p2 -> p2.overflowDropped(),
                    "messages for the peer dropped because what waited for it was at its bound");
            peerCounter(registry, "starling.cluster.link.connects", null, t, p, p2 -> p2.connects(),
                    "node link connections made with the peer");
            Gauge.builder("starling.cluster.link.up", p, p2 -> p2.isUp() ? 1 : 0).tags(t)
                    .description("1 while the node link to the peer is up").register(registry);
            Gauge.builder("starling.cluster.messages.waiting", p, p2 -> p2.waiting()).tags(t)
                    .description("messages waiting for the peer's acknowledgement").register(registry);
        }
    }

    private static void peerCounter(MeterRegistry registry, String name, String baseUnit, Tags tags,
            io.starling.broker.metrics.ClusterTraffic.Peer p,
            ToDoubleFunction<io.starling.broker.metrics.ClusterTraffic.Peer> f, String description) {
        FunctionCounter.builder(name, p, f).baseUnit(baseUnit).tags(tags).description(description).register(registry);
    }

    private static void counter(MeterRegistry registry, String name, LongAdder adder, String description) {
        FunctionCounter.builder(name, adder, LongAdder::sum).description(description).register(registry);
    }

    private static void counter(MeterRegistry registry, String name, StripedCounter c, String description) {
        FunctionCounter.builder(name, c, StripedCounter::sum).description(description).register(registry);
    }

    private static void counter(MeterRegistry registry, String name, String baseUnit, StripedCounter c,
            String description) {
        FunctionCounter.builder(name, c, StripedCounter::sum).baseUnit(baseUnit).description(description)
                .register(registry);
    }

    private static void counter(MeterRegistry registry, String name, String baseUnit, LongAdder adder,
            String description) {
        FunctionCounter.builder(name, adder, LongAdder::sum).baseUnit(baseUnit).description(description)
                .register(registry);
    }

    private static <T> void gauge(MeterRegistry registry, String name, String baseUnit, T source, ToDoubleFunction<T> f,
            String description) {
        Gauge.builder(name, source, f).strongReference(true).baseUnit(baseUnit).description(description)
                .register(registry);
    }

    @Override
    public void close() {
        gc.close(); // removes its notification listeners from the GC beans
    }
}
