package io.starling.cli.bench;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.starling.cli.client.MqttFramer;
import io.starling.cli.client.Transport;
import io.starling.codec.DecodeException;
import io.starling.codec.PacketDecoder;
import io.starling.codec.PacketEncoder;
import io.starling.codec.Properties;
import io.starling.codec.ProtocolVersion;
import io.starling.codec.packet.ConnAckPacket;
import io.starling.codec.packet.ConnectPacket;
import io.starling.codec.packet.MqttPacket;
import io.starling.codec.packet.PublishPacket;
import io.starling.codec.packet.SubAckPacket;
import io.starling.codec.packet.SubscribePacket;
import io.starling.codec.packet.TopicSubscription;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * The {@code retained} scenario, counted rather than timed: publishers fill the broker with {@code --messages}
 * retained messages, each on its own topic ({@code %n} in the template is the message's number, {@code %i} the
 * publisher's), then subscribers (each on its own connection) subscribe to a wildcard filter and are timed until
 * each has received that many retained messages. Either phase may be skipped ({@code -c 0}, {@code --subscribers
 * 0}), so a broker can be filled, restarted, and then read. See docs/bench.md.
 */
final class RetainedRun {

    /** A phase with no progress for this long ends with an error. */
    private static final long STALL_NANOS = TimeUnit.SECONDS.toNanos(60);

    private final BenchOptions o;
    private final long messages;
    private final int publishers;
    private final int subscribers;
    private final String topicTemplate;
    private final String filterTemplate;
    private final ProtocolVersion version;
    private final PrintWriter out;
    private final PrintWriter progress;
    private final String idPrefix;
    private final byte[] password;
    private final int keepAlive;
    private final AtomicLong published = new AtomicLong();
    private final AtomicLong acked = new AtomicLong();
    private final AtomicLong refused = new AtomicLong();
    private final AtomicLong received = new AtomicLong();
    private final AtomicLong notRetained = new AtomicLong();
    private final AtomicReference<String> error = new AtomicReference<>();

    RetainedRun(BenchOptions o, long messages, int publishers, int subscribers, PrintWriter out, PrintWriter err) {
        this.o = o;
        this.messages = messages;
        this.publishers = publishers;
        this.subscribers = subscribers;
        this.topicTemplate = o.topic != null ? o.topic : "bench/retained/%i/%n";
        this.filterTemplate = o.filter != null ? o.filter : "bench/retained/#";
        this.version = BenchRun.parseVersion(o.conn.versionText());
        this.out = out;
        this.progress = o.json ? err : out;
        this.idPrefix = o.prefix != null ? o.prefix : "bench-" + ProcessHandle.current().pid();
        this.password = o.conn.password();
        this.keepAlive = o.conn.keepAlive();
        require(messages > 0, "--messages must be > 0");
        require(publishers >= 0 && subscribers >= 0 && publishers + subscribers > 0, "nothing to run: no clients");
        require(o.qos == 0 || o.qos == 1, "-q must be 0 or 1 for retained");
        require(o.payloadSize >= 1 && o.payloadSize <= 256 * 1024 * 1024, "-s must be 1..268435456");
        require(o.inflight >= 1 && o.inflight <= 65535, "--inflight must be 1..65535");
        require(publishers == 0 || topicTemplate.contains("%n"), "-t needs %n (the message number): one topic per message");
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }

    int run() throws InterruptedException {
        double fillSeconds = -1;
        double receiveSeconds = -1;
        double firstSeconds = -1;
        try (Transport transport = new Transport(o.threads)) {
            InetSocketAddress remote = new InetSocketAddress(o.conn.host(), o.conn.port());
            if (publishers > 0) {
                progress.printf(Locale.ROOT, "bench retained: %d publishers fill %d retained messages of %d B, QoS %d, on %s%n",
                        publishers, messages, o.payloadSize, o.qos, topicTemplate);
                progress.flush();
                long t0 = System.nanoTime();
                List<Publisher> pubs = new ArrayList<>();
                for (int i = 0; i < publishers; i++) {
                    long count = messages / publishers + (i < messages % publishers ? 1 : 0);
                    Publisher p = new Publisher(i, count);
                    pubs.add(p);
                    transport.connect(remote, null, p, 10_000).addListener(f -> {
                        if (!f.isSuccess()) {
                            fail("connect: " + f.cause().getMessage());
                        }
                    });
                }
                if (!await(() -> pubs.stream().allMatch(p -> p.done), () -> acked.get() + published.get(), "fill")) {
                    return report(fillSeconds, receiveSeconds, firstSeconds, 1);
                }
                fillSeconds = (System.nanoTime() - t0) / 1e9;
                pubs.forEach(p -> p.close());
            }
            if (subscribers > 0) {
                progress.printf(Locale.ROOT, "bench retained: %d subscriber(s) to %s, each waiting for %d retained messages%n",
                        subscribers, filterTemplate, messages);
                progress.flush();
                long t0 = System.nanoTime();
                List<Subscriber> subs = new ArrayList<>();
                for (int i = 0; i < subscribers; i++) {
                    Subscriber s = new Subscriber(i, Plan.expand(filterTemplate, i));
                    subs.add(s);
                    transport.connect(remote, null, s, 10_000).addListener(f -> {
                        if (!f.isSuccess()) {
                            fail("connect: " + f.cause().getMessage());
                        }
                    });
                }
                if (!await(() -> subs.stream().allMatch(s -> s.count >= messages), received::get, "receive")) {
                    return report(fillSeconds, receiveSeconds, firstSeconds, 1);
                }
                receiveSeconds = (System.nanoTime() - t0) / 1e9;
                firstSeconds = subs.stream().mapToLong(s -> s.firstAt - t0).min().orElse(0) / 1e9;
                subs.forEach(s -> s.close());
            }
        }
        return report(fillSeconds, receiveSeconds, firstSeconds, 0);
    }

    private interface Check {
        boolean done();
    }

    private interface Progress {
        long value();
    }

    /** Waits until done, failing after an error or {@link #STALL_NANOS} without progress; prints progress each second. */
    private boolean await(Check done, Progress moving, String phase) {
        long start = System.nanoTime();
        long lastChange = start;
        long lastValue = -1;
        long lastReport = start;
        while (!done.done()) {
            if (error.get() != null) {
                return false;
            }
            long now = System.nanoTime();
            long v = moving.value();
            if (v != lastValue) {
                lastValue = v;
                lastChange = now;
            } else if (now - lastChange > STALL_NANOS) {
                fail(phase + ": no progress for " + TimeUnit.NANOSECONDS.toSeconds(STALL_NANOS) + " s");
                return false;
            }
            if (!o.quiet && now - lastReport >= TimeUnit.SECONDS.toNanos(1)) {
                lastReport = now;
                progress.printf(Locale.ROOT, "%5.0fs %-7s published %d acked %d refused %d received %d%n", (now - start) / 1e9,
                        phase, published.get(), acked.get(), refused.get(), received.get());
                progress.flush();
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
        }
        return true;
    }

    private void fail(String message) {
        error.compareAndSet(null, message);
    }

    private int report(double fillSeconds, double receiveSeconds, double firstSeconds, int status) {
        String err = error.get();
        if (o.json) {
            StringBuilder b = new StringBuilder("{\"scenario\":\"retained\"");
            b.append(String.format(Locale.ROOT, ",\"messages\":%d,\"payload_bytes\":%d,\"qos\":%d,\"publishers\":%d,\"subscribers\":%d",
                    messages, o.payloadSize, o.qos, publishers, subscribers));
            b.append(String.format(Locale.ROOT, ",\"published\":%d,\"acked\":%d,\"refused\":%d,\"received\":%d,\"not_retained\":%d",
                    published.get(), acked.get(), refused.get(), received.get(), notRetained.get()));
            b.append(",\"fill_seconds\":").append(fillSeconds < 0 ? "null" : String.format(Locale.ROOT, "%.3f", fillSeconds));
            b.append(",\"receive_seconds\":").append(receiveSeconds < 0 ? "null"
                    : String.format(Locale.ROOT, "%.3f", receiveSeconds));
            b.append(",\"first_message_seconds\":").append(firstSeconds < 0 ? "null"
                    : String.format(Locale.ROOT, "%.3f", firstSeconds));
            b.append(",\"error\":").append(err == null ? "null" : "\"" + err.replace("\\", "\\\\").replace("\"", "\\\"") + "\"");
            out.println(b.append('}'));
        } else {
            if (fillSeconds < 0 && published.get() > 0) {
                out.printf(Locale.ROOT, "fill      only %d of %d retained messages published, %d acknowledged%n",
                        published.get(), messages, acked.get());
            }
            if (fillSeconds >= 0) {
                out.printf(Locale.ROOT, "fill      %d retained messages of %d B by %d publishers in %.2f s (%.0f/s), %d refused%n",
                        published.get(), o.payloadSize, publishers, fillSeconds, published.get() / fillSeconds, refused.get());
            }
            if (receiveSeconds >= 0) {
                out.printf(Locale.ROOT, "receive   %d retained messages by %d subscriber(s) in %.2f s (%.0f/s per subscriber),"
                        + " the first after %.3f s%n", received.get(), subscribers, receiveSeconds,
                        received.get() / (double) subscribers / receiveSeconds, firstSeconds);
            } else if (received.get() > 0) {
                out.printf(Locale.ROOT, "receive   only %d retained messages of %d expected by %d subscriber(s)%n",
                        received.get(), messages * subscribers, subscribers);
            }
            if (err != null) {
                out.println("error: " + err);
            }
        }
        out.flush();
        return status;
    }

    private ConnectPacket connect(String clientId) {
        return new ConnectPacket(version, clientId, true, keepAlive, o.conn.username(), password, null, Properties.EMPTY);
    }

    // ---------------------------------------------------------------- clients

    /** Publishes its share of the messages, retained, with up to --inflight unacknowledged (QoS 1). */
    private final class Publisher extends MqttFramer {
        private final int index;
        private final long count;
        private final byte[] payload;
        private final boolean[] inUse = new boolean[65536];
        private Channel ch;
        private long next;
        private int inflight;
        private int nextId = 1;
        private boolean pingSent;
        volatile boolean done;

        Publisher(int index, long count) {
            this.index = index;
            this.count = count;
            this.payload = new byte[o.payloadSize];
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) throws Exception {
            ch = ctx.channel();
            ch.writeAndFlush(PacketEncoder.encode(ch.alloc(), connect(idPrefix + "-rp" + index), version), ch.voidPromise());
            super.channelActive(ctx);
        }

        private void pump() {
            while (next < count && (o.qos == 0 || inflight < o.inflight) && ch.isWritable()) {
                String topic = topicTemplate.replace("%i", Integer.toString(index)).replace("%n", Long.toString(next));
                int id = 0;
                if (o.qos > 0) {
                    id = nextId;
                    while (inUse[id]) {
                        id = id == 65535 ? 1 : id + 1;
                    }
                    inUse[id] = true;
                    inflight++;
                    nextId = id == 65535 ? 1 : id + 1;
                }
                // new random bytes for every message, so that a store cannot compress them away
                ThreadLocalRandom.current().nextBytes(payload);
                ch.write(PacketEncoder.encode(ch.alloc(), new PublishPacket(topic, o.qos, true, false, id, Properties.EMPTY,
                        payload), version), ch.voidPromise());
                next++;
                published.incrementAndGet();
            }
            if (next == count && o.qos == 0 && !pingSent) {
                // QoS 0: the PINGRESP comes after the broker has handled every PUBLISH before the PINGREQ
                pingSent = true;
                ch.write(ch.alloc().buffer(2).writeByte(0xC0).writeByte(0), ch.voidPromise());
            }
            ch.flush();
            if (next == count && o.qos > 0 && inflight == 0) {
                done = true;
            }
        }

        @Override
        protected void onPacket(ChannelHandlerContext ctx, int firstByte, ByteBuf in, int bodyStart, int bodyLength)
                throws DecodeException {
            switch (firstByte >> 4) {
                case 4 -> { // PUBACK
                    int id = in.getUnsignedShort(bodyStart);
                    if (bodyLength > 2 && in.getUnsignedByte(bodyStart + 2) >= 0x80) {
                        refused.incrementAndGet();
                    }
                    if (inUse[id]) {
                        inUse[id] = false;
                        inflight--;
                        acked.incrementAndGet();
                    }
                    pump();
                }
                case 13 -> done = true; // PINGRESP after the last QoS 0 PUBLISH
                case 2 -> {
                    MqttPacket p = PacketDecoder.decode(firstByte, body(in, bodyStart, bodyLength), version,
                            PacketDecoder.Sender.SERVER);
                    if (p instanceof ConnAckPacket a && a.reasonCode().isError()) {
                        fail("CONNACK " + a.reasonCode());
                        ctx.close();
                        return;
                    }
                    pump();
                }
                case 14 -> fail("DISCONNECT from the broker");
                default -> {
                    // nothing else expected
                }
            }
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
            if (ch.isWritable()) {
                pump();
            }
            super.channelWritabilityChanged(ctx);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) throws Exception {
            if (!done) {
                fail("publisher " + index + ": connection lost");
            }
            super.channelInactive(ctx);
        }

        void close() {
            closeChannel(ch);
        }
    }

    /** Subscribes and counts the retained messages that arrive; acknowledges QoS 1. */
    private final class Subscriber extends MqttFramer {
        private final int index;
        private final String filter;
        private Channel ch;
        private ByteBuf acks;
        volatile long count;
        volatile long firstAt;

        Subscriber(int index, String filter) {
            this.index = index;
            this.filter = filter;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) throws Exception {
            ch = ctx.channel();
            ch.writeAndFlush(PacketEncoder.encode(ch.alloc(), connect(idPrefix + "-rs" + index), version), ch.voidPromise());
            super.channelActive(ctx);
        }

        @Override
        protected void onPacket(ChannelHandlerContext ctx, int firstByte, ByteBuf in, int bodyStart, int bodyLength)
                throws DecodeException {
            switch (firstByte >> 4) {
                case 3 -> {
                    if (count == 0) {
                        firstAt = System.nanoTime();
                    }
                    if ((firstByte & 1) == 0) {
                        notRetained.incrementAndGet();
                        return;
                    }
                    count++;
                    received.incrementAndGet();
                    if (((firstByte >> 1) & 3) == 1) {
                        int id = in.getUnsignedShort(bodyStart + 2 + in.getUnsignedShort(bodyStart));
                        if (acks == null) {
                            acks = ch.alloc().buffer(256);
                        }
                        acks.writeByte(0x40).writeByte(2).writeShort(id);
                    }
                }
                case 2, 9 -> {
                    MqttPacket p = PacketDecoder.decode(firstByte, body(in, bodyStart, bodyLength), version,
                            PacketDecoder.Sender.SERVER);
                    if (p instanceof ConnAckPacket a) {
                        if (a.reasonCode().isError()) {
                            fail("CONNACK " + a.reasonCode());
                            ctx.close();
                            return;
                        }
                        ch.writeAndFlush(PacketEncoder.encode(ch.alloc(), new SubscribePacket(1,
                                List.of(TopicSubscription.of(filter, o.qos)), Properties.EMPTY), version), ch.voidPromise());
                    } else if (p instanceof SubAckPacket s && s.reasonCodes().get(0).isError()) {
                        fail("SUBACK " + s.reasonCodes().get(0) + " for " + filter);
                    }
                }
                case 14 -> fail("DISCONNECT from the broker");
                default -> {
                    // PINGRESP and the like
                }
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) throws Exception {
            if (acks != null) {
                ch.writeAndFlush(acks, ch.voidPromise());
                acks = null;
            }
            super.channelReadComplete(ctx);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) throws Exception {
            if (acks != null) {
                acks.release();
                acks = null;
            }
            if (count < messages) {
                fail("subscriber " + index + ": connection lost after " + count + " messages");
            }
            super.channelInactive(ctx);
        }

        void close() {
            closeChannel(ch);
        }
    }

    private static void closeChannel(Channel ch) {
        if (ch != null && ch.isActive()) {
            ch.eventLoop().execute(() -> {
                ch.writeAndFlush(ch.alloc().buffer(2).writeByte(0xE0).writeByte(0));
                ch.close();
            });
            ch.closeFuture().awaitUninterruptibly(2, TimeUnit.SECONDS);
        }
    }
}
