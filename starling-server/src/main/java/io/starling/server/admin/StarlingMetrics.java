package io.starling.server.admin;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
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
import io.starling.server.transport.IncompletePacketBudget;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.ToDoubleFunction;

/**
 * The meters of {@code GET /metrics}: each reads a figure the broker keeps anyway (its {@link BrokerMetrics}
 * counters, the connection gate, the session manager, the retained store, the store's status) when it is scraped,
 * so metrics cost nothing per message. Plus Micrometer's JVM binders and Netty's direct memory.
 *
 * <p>Names are written with dots and become Prometheus names on export: {@code starling.messages.received} as a
 * counter is {@code starling_messages_received_total}; a base unit of bytes adds {@code _bytes}. The table of
 * names is in docs/operations.md.
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

    /** Registers the meters of the broker of {@code ctx} with {@code registry}. */
    static void bindBroker(MeterRegistry registry, AdminContext ctx) {
        Broker broker = ctx.broker();
        BrokerMetrics m = broker.metrics();
        counter(registry, "starling.connections.accepted", m.connectionsAccepted,
                "MQTT connections accepted (CONNECT answered with success) since start");
        counter(registry, "starling.messages.received", m.messagesReceived,
                "PUBLISH packets received from clients since start");
        counter(registry, "starling.messages.delivered", m.messagesDelivered,
                "PUBLISH packets delivered to subscribers since start");
        counter(registry, "starling.messages.dropped", m.messagesDropped,
                "messages dropped since start (full queues, shed for the global queue budget, ...)");
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
        counter(registry, "starling.protocol.errors", m.protocolErrors,
                "connections closed for a protocol error since start");
        counter(registry, "starling.sessions.expired", m.sessionsExpired,
                "sessions removed because their expiry interval ran out since start");
        counter(registry, "starling.stored.unloaded", m.storedUnloaded,
                "stored deliveries sent back from memory to the store by the queue budget (read again later)");
        gauge(registry, "starling.queued", "bytes", m.queuedBytes, LongAdder::sum,
                "bytes queued over all sessions (as max-queued-bytes counts them)");

        var gate = ctx.gate();
        gauge(registry, "starling.connections.open", null, gate, g -> g.openConnections(),
                "client connections open now over all listeners (admitted, not closed yet)");
        FunctionCounter.builder("starling.connections.refused", gate, g -> g.refusedConnections())
                .description("connections closed at accept since start (max-connections, max-connect-rate-per-address)")
                .register(registry);

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
        gauge(registry, "starling.retained.messages", null, broker, b -> b.retained().size(),
                "retained messages held now");
        gauge(registry, "starling.retained", "bytes", broker, b -> b.retained().bytes(),
                "bytes of retained messages counted against max-retained-bytes");
        gauge(registry, "starling.store.writable", null, broker, b -> b.store().status().writable() ? 1 : 0,
                "1 while the store's commits succeed, 0 while they fail");
        FunctionCounter.builder("starling.store.refused.acknowledgements", broker,
                        b -> b.store().status().refusedAcknowledgements())
                .description("acknowledgements refused since start because what they depend on was not stored")
                .register(registry);
    }

    /** The default allocator's direct memory, or Netty's own count of it where the allocator keeps none. */
    private static double usedDirectMemory(ByteBufAllocator allocator) {
        if (allocator instanceof ByteBufAllocatorMetricProvider p) {
            return p.metric().usedDirectMemory();
        }
        return PlatformDependent.usedDirectMemory();
    }

    private static void counter(MeterRegistry registry, String name, LongAdder adder, String description) {
        FunctionCounter.builder(name, adder, LongAdder::sum).description(description).register(registry);
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
