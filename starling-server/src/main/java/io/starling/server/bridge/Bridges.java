package io.starling.server.bridge;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.starling.broker.Broker;
import io.starling.broker.config.BridgeConfig;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.ToDoubleFunction;
import javax.net.ssl.SSLException;

/**
 * The broker's MQTT bridges (the {@code bridges} section of the config): started once the store has recovered, stopped
 * before the broker's sessions are closed. Thread-safe.
 */
public final class Bridges implements AutoCloseable {

    private final Map<String, Bridge> bridges = new LinkedHashMap<>();

    private Bridges() {
    }

    /**
     * Starts every configured bridge on the broker's event loops (each bridge on one loop). A TLS file that cannot be
     * read stops the start-up with an {@link IllegalArgumentException} naming the bridge.
     *
     * @param channelClass the socket channel class that fits the loops (epoll or NIO)
     */
    public static Bridges start(List<BridgeConfig> configs, Broker broker, EventLoopGroup loops,
            Class<? extends Channel> channelClass) {
        Bridges b = new Bridges();
        List<Bridge> made = new ArrayList<>();
        for (BridgeConfig c : configs) {
            made.add(new Bridge(c, broker, loops.next(), channelClass, sslContext(c)));
        }
        for (Bridge bridge : made) {
            b.bridges.put(bridge.config().name(), bridge);
            bridge.start();
        }
        return b;
    }

    private static SslContext sslContext(BridgeConfig c) {
        BridgeConfig.Tls tls = c.tls();
        if (tls == null) {
            return null;
        }
        try {
            SslContextBuilder b = SslContextBuilder.forClient();
            if (tls.ca() != null) {
                b.trustManager(tls.ca().toFile());
            }
            if (tls.cert() != null) {
                b.keyManager(tls.cert().toFile(), tls.key().toFile());
            }
            return b.build();
        } catch (SSLException | IllegalArgumentException e) {
            throw new IllegalArgumentException("bridge '" + c.name() + "': cannot use its TLS files: " + e.getMessage(), e);
        }
    }

    /** The number of bridges. */
    public int size() {
        return bridges.size();
    }

    /** Whether the bridge of that name is connected to its remote (subscriptions made, forwarding). */
    public boolean connected(String name) {
        Bridge b = bridges.get(name);
        return b != null && b.connected();
    }

    /** Messages forwarded to the remote (acknowledged by it for QoS 1/2) by the bridge of that name. */
    public long forwardedOut(String name) {
        return bridges.get(name).forwardedOut();
    }

    /** Messages from the remote published locally by the bridge of that name. */
    public long forwardedIn(String name) {
        return bridges.get(name).forwardedIn();
    }

    /** Messages from the remote that the bridge of that name did not publish locally (no mapping, ACL, limits). */
    public long refusedIn(String name) {
        return bridges.get(name).refusedIn();
    }

    /** Successful connections of the bridge of that name to its remote since start. */
    public long connects(String name) {
        return bridges.get(name).connects();
    }

    /** Messages dropped from the queue of the bridge of that name (sampled every second). */
    public long dropped(String name) {
        return bridges.get(name).dropped();
    }

    /** Messages queued or in flight to the remote of the bridge of that name (sampled every second). */
    public long queued(String name) {
        return bridges.get(name).queued();
    }

    /** Registers the meters of every bridge, tagged {@code bridge=<name>} (docs/operations.md). */
    public void bindMetrics(MeterRegistry registry) {
        for (Bridge b : bridges.values()) {
            String name = b.config().name();
            gauge(registry, "starling.bridge.connected", name, b, x -> x.connected() ? 1 : 0,
                    "1 while the bridge is connected to its remote broker, else 0");
            gauge(registry, "starling.bridge.queued", name, b, Bridge::queued,
                    "messages queued or in flight to the remote broker (sampled every second)");
            counter(registry, "starling.bridge.dropped", name, null, b, Bridge::dropped,
                    "messages for the remote broker dropped by the bridge's full queue since start");
            counter(registry, "starling.bridge.messages.forwarded", name, "out", b, Bridge::forwardedOut,
                    "messages forwarded by the bridge since start, by direction (out: acknowledged by the remote)");
            counter(registry, "starling.bridge.messages.forwarded", name, "in", b, Bridge::forwardedIn,
                    "messages forwarded by the bridge since start, by direction (out: acknowledged by the remote)");
            counter(registry, "starling.bridge.messages.refused", name, null, b, Bridge::refusedIn,
                    "messages from the remote broker not published locally (no mapping, ACL, topic limits)");
            counter(registry, "starling.bridge.connects", name, null, b, Bridge::connects,
                    "successful connections to the remote broker since start");
        }
    }

    private static void gauge(MeterRegistry registry, String meter, String name, Bridge b, ToDoubleFunction<Bridge> f,
            String description) {
        Gauge.builder(meter, b, f).tag("bridge", name).description(description).register(registry);
    }

    private static void counter(MeterRegistry registry, String meter, String name, String direction, Bridge b,
            ToDoubleFunction<Bridge> f, String description) {
        FunctionCounter.Builder<Bridge> c = FunctionCounter.builder(meter, b, f).tag("bridge", name)
                .description(description);
        if (direction != null) {
            c.tag("direction", direction);
        }
        c.register(registry);
    }

    /** Stops every bridge: no more reconnecting, DISCONNECT to the remotes; waits at most 2 s. */
    @Override
    public void close() {
        List<CompletableFuture<Void>> stops = new ArrayList<>();
        for (Bridge b : bridges.values()) {
            stops.add(b.stop());
        }
        try {
            CompletableFuture.allOf(stops.toArray(CompletableFuture[]::new)).get(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            // the loops shut down next anyway
        }
    }
}
