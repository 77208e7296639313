package io.starling.server.transport;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.starling.broker.config.BrokerConfig;
import io.starling.broker.config.ListenerConfig;
import io.starling.broker.log.RateLimitedLog;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;

/**
 * Admission of new connections, decided at accept time on the server channel, before the connection is registered
 * with a worker loop and before a single byte of it is read: the broker-wide {@code max-connections}, the
 * per-listener {@code max-connections} and the connect rate of the source address ({@code
 * max-connect-rate-per-address}, a token bucket per {@link InetAddress}). A refused connection is closed at once,
 * without a CONNACK: the client sees the TCP connection end (docs/security.md, Limits). Refusals are counted and logged at
 * most once every {@link #LOG_INTERVAL}, with the counts per limit since the last line.
 *
 * <p>Memory: an admitted connection costs no object here. Its release when it closes is one listener shared by all
 * connections of its listener (it finds what to release from the channel's server channel), not a closure each.
 *
 * <p>Thread-safety: {@link #handler} returns a sharable handler for one listener's server channel; it runs on the
 * boss loop. Connection counts are atomics (connections are released from worker loops); the rate buckets are
 * guarded by this object's lock, taken once per accepted connection (never per message).
 */
public final class ConnectionGate {

    private static final Logger LOG = LoggerFactory.getLogger(ConnectionGate.class);

    /** Refusals are logged at most once per this interval, with the counts since the last line. */
    static final Duration LOG_INTERVAL = Duration.ofSeconds(10);

    /** At most this many source addresses have a rate bucket; the least recently seen is forgotten first. */
    static final int MAX_TRACKED_ADDRESSES = 65_536;

    /** Why a connection was refused. */
    public enum Refusal {
        MAX_CONNECTIONS("max-connections", "max_connections"),
        LISTENER_MAX_CONNECTIONS("listener max-connections", "listener_max_connections"),
        CONNECT_RATE("max-connect-rate-per-address", "connect_rate");

        /** How the refusal reads in the log line's counts. */
        private final String label;
        private final String tag;

        Refusal(String key, String tag) {
            this.label = "over " + key;
            this.tag = tag;
        }

        /** The value of the {@code reason} tag of the refusal's metric. */
        public String tag() {
            return tag;
        }
    }

    private final int maxConnections;
    private final double ratePerNano;
    private final double burst;
    private final LongSupplier nanoClock;
    private final AtomicInteger open = new AtomicInteger();
    private final LongAdder refusedTotal = new LongAdder();
    private final LongAdder[] refusedBy = new LongAdder[Refusal.values().length];
    /** Access-ordered: the eldest entry is the address seen least recently. Guarded by {@code this}. */
    private final LinkedHashMap<InetAddress, Bucket> buckets = new LinkedHashMap<>(16, 0.75f, true);
    private final RateLimitedLog refusals;

    /** A token bucket: {@code tokens} as of {@code lastNanos}. */
    private static final class Bucket {
        double tokens;
        long lastNanos;

        Bucket(double tokens, long lastNanos) {
            this.tokens = tokens;
            this.lastNanos = lastNanos;
        }
    }

    public ConnectionGate(BrokerConfig.Limits limits) {
        this(limits, System::nanoTime);
    }

    /** @param nanoClock the clock of the connect rate buckets and of the log's rate limit */
    public ConnectionGate(BrokerConfig.Limits limits, LongSupplier nanoClock) {
        this.maxConnections = limits.maxConnections();
        this.ratePerNano = limits.maxConnectRatePerAddress() / 1e9;
        this.burst = limits.effectiveConnectBurst();
        this.nanoClock = nanoClock;
        this.refusals = new RateLimitedLog(LOG, Level.WARN, LOG_INTERVAL, nanoClock);
        for (int i = 0; i < refusedBy.length; i++) {
            refusedBy[i] = new LongAdder();
        }
    }

    /** Client connections open now (admitted and not yet closed), over all listeners. */
    public int openConnections() {
        return open.get();
    }

    /** Connections refused at accept since start. */
    public long refusedConnections() {
        return refusedTotal.sum();
    }

    /** Connections refused at accept since start for {@code why}. */
    public long refusedConnections(Refusal why) {
        return refusedBy[why.ordinal()].sum();
    }

    /** Addresses that have a rate bucket now (bounded by {@link #MAX_TRACKED_ADDRESSES}). */
    synchronized int trackedAddresses() {
        return buckets.size();
    }

    /** The handler to install on the server channel of {@code listener} ({@code ServerBootstrap.handler}). */
    public ChannelHandler handler(ListenerConfig listener) {
        return new AcceptHandler(listener);
    }

    /**
     * Decides on one accepted connection; on admission counts it until its channel closes.
     *
     * @param listenerOpen the listener's count of open connections
     * @param listenerMax the listener's {@code max-connections} (0 = none)
     * @param release the listener's shared close listener, which gives back what admission counted
     * @return null when admitted, else why not
     */
    Refusal admit(Channel child, AtomicInteger listenerOpen, int listenerMax, ChannelFutureListener release) {
        if (ratePerNano > 0) {
            InetAddress address = addressOf(child.remoteAddress());
            if (address != null && !takeToken(address)) {
                return Refusal.CONNECT_RATE;
            }
        }
        if (maxConnections > 0 && open.incrementAndGet() > maxConnections) {
            open.decrementAndGet();
            return Refusal.MAX_CONNECTIONS;
        }
        if (listenerMax > 0 && listenerOpen.incrementAndGet() > listenerMax) {
            listenerOpen.decrementAndGet();
            if (maxConnections > 0) {
                open.decrementAndGet();
            }
            return Refusal.LISTENER_MAX_CONNECTIONS;
        }
        if (maxConnections <= 0) {
            open.incrementAndGet(); // counted for openConnections() even without a limit
        }
        // the channel is not registered yet: the listener runs on its event loop when it closes. (Should its
        // registration fail, Netty closes it without completing the close future; that happens only while the
        // worker loops shut down, when the counts no longer matter.)
        child.closeFuture().addListener(release);
        return null;
    }

    /** Gives back what {@link #admit} counted for a connection of a listener: called once, when it closes. */
    private void release(AtomicInteger listenerOpen, int listenerMax) {
        open.decrementAndGet();
        if (listenerMax > 0) {
            listenerOpen.decrementAndGet();
        }
    }

    private static InetAddress addressOf(SocketAddress a) {
        return a instanceof InetSocketAddress isa ? isa.getAddress() : null;
    }

    /** Takes one token of the address's bucket; false when it is empty. */
    private synchronized boolean takeToken(InetAddress address) {
        long now = nanoClock.getAsLong();
        expireIdleBuckets(now);
        Bucket b = buckets.get(address);
        if (b == null) {
            if (buckets.size() >= MAX_TRACKED_ADDRESSES) {
                // bounded memory: forget the address seen least recently (it starts again with a full bucket)
                Iterator<Bucket> eldest = buckets.values().iterator();
                eldest.next();
                eldest.remove();
            }
            buckets.put(address, new Bucket(burst - 1, now));
            return true;
        }
        b.tokens = Math.min(burst, b.tokens + (now - b.lastNanos) * ratePerNano);
        b.lastNanos = now;
        if (b.tokens < 1) {
            return false;
        }
        b.tokens -= 1;
        return true;
    }

    /**
     * Drops buckets that have refilled completely: such an address is treated exactly as one never seen. Looks at
     * the least recently seen entries only, so the cost per accept is constant.
     */
    private void expireIdleBuckets(long now) {
        Iterator<Bucket> it = buckets.values().iterator();
        for (int i = 0; i < 4 && it.hasNext(); i++) {
            Bucket b = it.next();
            if (b.tokens + (now - b.lastNanos) * ratePerNano >= burst) {
                it.remove();
            } else {
                return;
            }
        }
    }

    private void refused(Refusal why, Channel child, ListenerConfig listener) {
        refusedTotal.increment();
        refusedBy[why.ordinal()].increment();
        refusals.logKind(why.label, "Connections refused at accept; latest from {} on the {} listener {}",
                child.remoteAddress(), listener.type().configName(), child.localAddress());
    }

    /** Admission on one listener's server channel: sees each accepted child channel before it is registered. */
    @ChannelHandler.Sharable
    private final class AcceptHandler extends ChannelInboundHandlerAdapter {
        private final ListenerConfig listener;
        private final AtomicInteger listenerOpen = new AtomicInteger();
        /** One for all connections of the listener: an admitted connection adds no closure of its own. */
        private final ChannelFutureListener release;

        AcceptHandler(ListenerConfig listener) {
            this.listener = listener;
            int max = listener.maxConnections();
            this.release = f -> release(listenerOpen, max);
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof Channel child) {
                Refusal why = admit(child, listenerOpen, listener.maxConnections(), release);
                if (why != null) {
                    // not registered with a worker loop: close the socket here, nothing of it is read
                    child.unsafe().closeForcibly();
                    refused(why, child, listener);
                    return;
                }
            }
            ctx.fireChannelRead(msg);
        }
    }

    @Override
    public String toString() {
        return "ConnectionGate[open=" + open.get() + ", refused=" + refusedTotal.sum() + "]";
    }
}
