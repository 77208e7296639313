package io.starling.cli.bench;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.util.concurrent.ScheduledFuture;
import io.starling.cli.client.MqttFramer;
import io.starling.codec.DecodeException;
import io.starling.codec.FixedHeader;
import io.starling.codec.MqttStrings;
import io.starling.codec.PacketDecoder;
import io.starling.codec.PacketEncoder;
import io.starling.codec.Properties;
import io.starling.codec.ReasonCode;
import io.starling.codec.packet.ConnAckPacket;
import io.starling.codec.packet.DisconnectPacket;
import io.starling.codec.packet.MqttPacket;
import io.starling.codec.packet.PublishPacket;
import io.starling.codec.packet.SubAckPacket;
import io.starling.codec.packet.SubscribePacket;
import io.starling.codec.packet.TopicSubscription;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * One load-generating connection: a publisher, a subscriber or an idle connection. Everything here runs on the
 * connection's event loop.
 *
 * <p>Writes are batched: PUBLISHes are copied from a template encoded once by the codec (only the packet id and
 * the send time are patched) into chunks of up to {@value #CHUNK_BYTES} bytes; acks accumulate in one buffer;
 * everything is flushed once at the end of a read batch, a rate tick or a writability change. A publisher writes
 * only while its channel is writable and, for QoS 1/2, while it has fewer than {@code --inflight} unacknowledged
 * messages. The hot path (PUBLISH in, acks in and out) is read and written in place; CONNACK, SUBACK and
 * DISCONNECT go through {@code PacketDecoder}.
 */
final class BenchClient extends MqttFramer {

    enum Role { PUBLISHER, SUBSCRIBER, IDLE }

    private static final int CHUNK_BYTES = 16 * 1024;
    private static final long CONNACK_TIMEOUT_MS = 15_000;

    private final BenchRun run;
    private final Stats stats;
    private final Role role;
    private final String clientId;
    private final String topicOrFilter;
    private final int qos;

    private Channel ch;
    private ByteBuf out;
    private boolean settled;
    private boolean connected;
    private long connectSentAt;
    private ScheduledFuture<?> connackTimer;
    private ScheduledFuture<?> pinger;
    private ScheduledFuture<?> ticker;
    private boolean closing;

    // publisher state
    private ByteBuf template;
    private int packetLength;
    private int packetIdOffset;
    private int stampOffset;
    private boolean[] inUse;
    private int nextId = 1;
    private int inflight;
    private boolean publishing;
    private long rateStart;
    private long rateSent;

    BenchClient(BenchRun run, Role role, String clientId, String topicOrFilter) {
        this.run = run;
        this.stats = run.stats;
        this.role = role;
        this.clientId = clientId;
        this.topicOrFilter = topicOrFilter;
        this.qos = run.qos;
        if (role == Role.PUBLISHER) {
            byte[] payload = new byte[run.payloadSize];
            ThreadLocalRandom.current().nextBytes(payload);
            PublishPacket p = new PublishPacket(topicOrFilter, qos, false, false, qos > 0 ? 1 : 0, Properties.EMPTY, payload);
            template = Unpooled.buffer(PacketEncoder.encodedSize(p, run.version));
            PacketEncoder.encode(p, run.version, template);
            packetLength = template.readableBytes();
            int remaining = PacketEncoder.remainingLength(p, run.version);
            packetIdOffset = FixedHeader.headerSizeFor(remaining) + MqttStrings.stringSize(topicOrFilter);
            stampOffset = packetLength - payload.length;
            if (qos > 0) {
                inUse = new boolean[65536];
            }
        }
    }

    Role role() {
        return role;
    }

    // ---------------------------------------------------------------- connection

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        ch = ctx.channel();
        connectSentAt = System.nanoTime();
        ch.writeAndFlush(PacketEncoder.encode(ch.alloc(), run.connectPacket(clientId), run.version), ch.voidPromise());
        connackTimer = ch.eventLoop().schedule(() -> {
            fail("no CONNACK within " + CONNACK_TIMEOUT_MS + " ms");
            ch.close();
        }, CONNACK_TIMEOUT_MS, TimeUnit.MILLISECONDS);
        super.channelActive(ctx);
    }

    /** The TCP connection could not be made. */
    void connectFailed(Throwable cause) {
        fail("connect: " + cause.getMessage());
    }

    private void fail(String message) {
        stats.error(message);
        if (!settled) {
            settled = true;
            stats.connectFailures.incrementAndGet();
            run.settled(this, false);
        }
    }

    private void ready() {
        if (!settled) {
            settled = true;
            run.settled(this, true);
        }
    }

    private void onConnAck(ConnAckPacket ack) {
        connackTimer.cancel(false);
        if (ack.reasonCode().isError()) {
            fail("CONNACK " + ack.reasonCode() + String.format(" (0x%02X)", ack.reasonCode().value()));
            ch.close();
            return;
        }
        connected = true;
        stats.connected(System.nanoTime() - connectSentAt);
        int keepAlive = ack.properties().serverKeepAlive() != null ? ack.properties().serverKeepAlive() : run.keepAlive;
        if (keepAlive > 0) {
            long period = keepAlive * 750L;
            pinger = ch.eventLoop().scheduleAtFixedRate(() -> {
                outBuffer().writeByte(0xC0).writeByte(0);
                flush();
            }, period, period, TimeUnit.MILLISECONDS);
        }
        if (role == Role.SUBSCRIBER) {
            SubscribePacket sub = new SubscribePacket(1, List.of(TopicSubscription.of(topicOrFilter, qos)), Properties.EMPTY);
            ch.writeAndFlush(PacketEncoder.encode(ch.alloc(), sub, run.version), ch.voidPromise());
        } else {
            ready();
        }
    }

    private void onSubAck(SubAckPacket ack) {
        ReasonCode rc = ack.reasonCodes().get(0);
        if (rc.isError()) {
            fail("SUBACK " + rc + " for " + topicOrFilter);
            ch.close();
        } else {
            ready();
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        if (connackTimer != null) {
            connackTimer.cancel(false);
        }
        cancel(pinger);
        cancel(ticker);
        if (out != null) {
            out.release();
            out = null;
        }
        if (connected) {
            stats.connected.decrementAndGet();
            if (!closing) {
                stats.lost.incrementAndGet();
                stats.error("connection lost: " + clientId);
            }
        }
        if (!settled) {
            fail("connection closed before it was ready: " + clientId);
        }
        super.channelInactive(ctx);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        stats.error(clientId + ": " + cause);
        ctx.close();
    }

    /** Sends DISCONNECT and closes (from any thread). */
    void close() {
        if (ch == null) {
            return;
        }
        ch.eventLoop().execute(() -> {
            closing = true;
            publishing = false;
            if (ch.isActive()) {
                outBuffer().writeByte(0xE0).writeByte(0);
                flush();
                ch.close();
            }
        });
    }

    Channel channel() {
        return ch;
    }

    private static void cancel(ScheduledFuture<?> f) {
        if (f != null) {
            f.cancel(false);
        }
    }

    // ---------------------------------------------------------------- publishing

    /** Starts publishing (from any thread). */
    void startPublishing() {
        ch.eventLoop().execute(() -> {
            if (!ch.isActive()) {
                return;
            }
            publishing = true;
            rateStart = System.nanoTime();
            if (run.rate > 0) {
                long periodNanos = run.rate >= 100 ? 10_000_000L : (long) (1e9 / run.rate);
                long first = ThreadLocalRandom.current().nextLong(periodNanos);
                ticker = ch.eventLoop().scheduleAtFixedRate(() -> {
                    fill();
                    flush();
                }, first, periodNanos, TimeUnit.NANOSECONDS);
            } else {
                fill();
                flush();
            }
        });
    }

    private void fill() {
        if (!publishing) {
            return;
        }
        if (!run.publishing) {
            publishing = false;
            cancel(ticker);
            return;
        }
        long n = qos == 0 ? Long.MAX_VALUE : run.inflight - inflight;
        if (run.rate > 0) {
            long due = (long) ((System.nanoTime() - rateStart) * run.rate / 1e9) - rateSent;
            long backlog = Math.max(1, (long) (run.rate / 10));
            if (due > backlog) {
                // behind by more than 100 ms: do not burst to catch up
                rateSent += due - backlog;
                due = backlog;
            }
            n = Math.min(n, due);
        }
        if (n <= 0 || !ch.isWritable()) {
            return;
        }
        long stamp = System.nanoTime();
        int perChunk = Math.max(1, CHUNK_BYTES / packetLength);
        long sent = 0;
        while (n > 0 && ch.isWritable()) {
            int k = (int) Math.min(n, perChunk);
            ByteBuf buf = ch.alloc().directBuffer(k * packetLength);
            for (int i = 0; i < k; i++) {
                int at = buf.writerIndex();
                buf.writeBytes(template, 0, packetLength);
                if (qos > 0) {
                    buf.setShort(at + packetIdOffset, allocateId());
                }
                buf.setLong(at + stampOffset, stamp);
            }
            ch.write(buf, ch.voidPromise());
            n -= k;
            sent += k;
        }
        rateSent += sent;
        stats.sent((int) sent, stamp);
    }

    private int allocateId() {
        int id = nextId;
        while (inUse[id]) {
            id = id == 65535 ? 1 : id + 1;
        }
        inUse[id] = true;
        inflight++;
        nextId = id == 65535 ? 1 : id + 1;
        return id;
    }

    private void release(int id, ByteBuf in, int bodyStart, int bodyLength) {
        if (bodyLength > 2 && in.getUnsignedByte(bodyStart + 2) >= 0x80) {
            stats.ackErrors.increment();
            stats.error("publish refused: reason code " + String.format("0x%02X", in.getUnsignedByte(bodyStart + 2)));
        }
        if (inUse != null && inUse[id]) {
            inUse[id] = false;
            inflight--;
            stats.ack(System.nanoTime());
        }
    }

    // ---------------------------------------------------------------- reading

    @Override
    protected void onPacket(ChannelHandlerContext ctx, int firstByte, ByteBuf in, int bodyStart, int bodyLength)
            throws DecodeException {
        switch (firstByte >> 4) {
            case 3:
                onPublish(firstByte, in, bodyStart, bodyLength);
                break;
            case 4: // PUBACK
                release(in.getUnsignedShort(bodyStart), in, bodyStart, bodyLength);
                break;
            case 5: { // PUBREC
                int id = in.getUnsignedShort(bodyStart);
                if (bodyLength > 2 && in.getUnsignedByte(bodyStart + 2) >= 0x80) {
                    release(id, in, bodyStart, bodyLength);
                } else {
                    outBuffer().writeByte(0x62).writeByte(2).writeShort(id);
                }
                break;
            }
            case 6: // PUBREL: answer PUBCOMP
                outBuffer().writeByte(0x70).writeByte(2).writeShort(in.getUnsignedShort(bodyStart));
                break;
            case 7: // PUBCOMP
                release(in.getUnsignedShort(bodyStart), in, bodyStart, bodyLength);
                break;
            case 13: // PINGRESP
                break;
            default: {
                MqttPacket p = PacketDecoder.decode(firstByte, body(in, bodyStart, bodyLength), run.version,
                        PacketDecoder.Sender.SERVER);
                if (p instanceof ConnAckPacket a) {
                    onConnAck(a);
                } else if (p instanceof SubAckPacket s) {
                    onSubAck(s);
                } else if (p instanceof DisconnectPacket d) {
                    stats.error("DISCONNECT from the broker: " + d.reasonCode());
                    ctx.close();
                }
                break;
            }
        }
    }

    private void onPublish(int firstByte, ByteBuf in, int bodyStart, int bodyLength) throws DecodeException {
        long now = System.nanoTime();
        int q = (firstByte >> 1) & 3;
        int end = bodyStart + bodyLength;
        int pos = bodyStart + 2 + in.getUnsignedShort(bodyStart);
        int id = 0;
        if (q > 0) {
            id = in.getUnsignedShort(pos);
            pos += 2;
        }
        if (run.version.isV5()) {
            int save = in.readerIndex();
            in.readerIndex(pos);
            int propLength = FixedHeader.readVariableByteInteger(in);
            pos = in.readerIndex() + propLength;
            in.readerIndex(save);
        }
        boolean stamped = run.stamped && end - pos >= 8;
        stats.delivery(stamped ? in.getLong(pos) : 0, now, stamped);
        if (q == 1) {
            outBuffer().writeByte(0x40).writeByte(2).writeShort(id);
        } else if (q == 2) {
            outBuffer().writeByte(0x50).writeByte(2).writeShort(id);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) throws Exception {
        fill();
        flush();
        super.channelReadComplete(ctx);
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
        if (ch.isWritable()) {
            fill();
            flush();
        }
        super.channelWritabilityChanged(ctx);
    }

    private ByteBuf outBuffer() {
        if (out == null) {
            out = ch.alloc().directBuffer(256);
        }
        return out;
    }

    private void flush() {
        if (out != null) {
            if (out.isReadable()) {
                ch.write(out, ch.voidPromise());
            } else {
                out.release();
            }
            out = null;
        }
        ch.flush();
    }
}
