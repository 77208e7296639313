package io.starling.cli.client;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.util.concurrent.ScheduledFuture;
import io.starling.codec.DecodeException;
import io.starling.codec.PacketDecoder;
import io.starling.codec.PacketEncoder;
import io.starling.codec.ProtocolVersion;
import io.starling.codec.ReasonCode;
import io.starling.codec.packet.ConnAckPacket;
import io.starling.codec.packet.ConnectPacket;
import io.starling.codec.packet.DisconnectPacket;
import io.starling.codec.packet.MqttPacket;
import io.starling.codec.packet.PingReqPacket;
import io.starling.codec.packet.PubAckPacket;
import io.starling.codec.packet.PubCompPacket;
import io.starling.codec.packet.PubRecPacket;
import io.starling.codec.packet.PubRelPacket;
import io.starling.codec.packet.PublishPacket;
import io.starling.codec.packet.SubAckPacket;
import io.starling.codec.packet.SubscribePacket;
import io.starling.codec.packet.TopicSubscription;
import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * A small MQTT client on {@link Transport} and the codec, for {@code starling pub} and {@code starling sub}: one
 * connection, blocking calls for connect/publish/subscribe, incoming messages to a callback on the event loop.
 * QoS 1 and 2 flows in both directions; PINGREQ at the keep-alive interval.
 */
public final class MqttClient extends MqttFramer implements AutoCloseable {

    private final ProtocolVersion version;
    private final long timeoutMillis;
    private final CompletableFuture<ConnAckPacket> connAck = new CompletableFuture<>();
    private final CompletableFuture<String> closed = new CompletableFuture<>();
    private final Map<Integer, CompletableFuture<MqttPacket>> pending = new HashMap<>();
    private final Set<Integer> qos2Received = new HashSet<>();
    /** Set on the event loop; until then messages wait in {@link #early} (a resumed session sends right after CONNACK). */
    private Consumer<PublishPacket> onMessage;
    private final java.util.ArrayDeque<PublishPacket> early = new java.util.ArrayDeque<>();
    private volatile String disconnectReason;
    private Channel channel;
    private ScheduledFuture<?> pinger;
    private int nextPacketId = 1;

    private MqttClient(ProtocolVersion version, long timeoutMillis) {
        this.version = version;
        this.timeoutMillis = timeoutMillis;
    }

    /**
     * Connects and waits for a successful CONNACK.
     *
     * @throws ClientException {@link ClientException#NETWORK} when the connection fails or times out,
     *         {@link ClientException#REFUSED} when the CONNACK carries an error
     */
    public static MqttClient connect(Transport transport, String host, int port, ConnectPacket connect, long timeoutMillis)
            throws ClientException {
        MqttClient client = new MqttClient(connect.version(), timeoutMillis);
        ChannelFuture f = transport.connect(new InetSocketAddress(host, port), null, client, (int) timeoutMillis);
        f.awaitUninterruptibly();
        if (!f.isSuccess()) {
            Throwable c = f.cause();
            throw new ClientException(ClientException.NETWORK, "cannot connect to " + host + ":" + port + ": "
                    + (c == null ? "cancelled" : c.getMessage()));
        }
        client.channel = f.channel();
        client.channel.eventLoop().execute(() -> client.send(connect, true));
        ConnAckPacket ack = client.await(client.connAck, "CONNACK from " + host + ":" + port);
        if (ack.reasonCode().isError()) {
            client.channel.close();
            String reason = ack.properties().reasonString();
            throw new ClientException(ClientException.REFUSED, "connection refused by " + host + ":" + port + ": "
                    + describe(ack.reasonCode()) + (reason == null ? "" : " (" + reason + ")"));
        }
        int keepAlive = ack.properties().serverKeepAlive() != null ? ack.properties().serverKeepAlive()
                : connect.keepAliveSeconds();
        if (keepAlive > 0) {
            client.channel.eventLoop().execute(() -> client.pinger = client.channel.eventLoop().scheduleAtFixedRate(
                    () -> client.send(PingReqPacket.INSTANCE, true), keepAlive, keepAlive, TimeUnit.SECONDS));
        }
        return client;
    }

    /** "NOT_AUTHORIZED (0x87)". */
    public static String describe(ReasonCode code) {
        return code.name() + String.format(" (0x%02X)", code.value());
    }

    /**
     * Called on the event loop for every PUBLISH received (once for QoS 2), including those that arrived before this
     * call, e.g. the queued messages a resumed session gets right after CONNACK.
     */
    public void onMessage(Consumer<PublishPacket> consumer) {
        channel.eventLoop().execute(() -> {
            onMessage = consumer;
            PublishPacket p;
            while ((p = early.poll()) != null) {
                consumer.accept(p);
            }
        });
    }

    /** Completes with a description when the connection is closed (by either side). */
    public CompletableFuture<String> closedFuture() {
        return closed;
    }

    /** Publishes and, for QoS 1 and 2, waits for the PUBACK / PUBCOMP. */
    public void publish(String topic, byte[] payload, int qos, boolean retain) throws ClientException {
        CompletableFuture<MqttPacket> done = new CompletableFuture<>();
        channel.eventLoop().execute(() -> {
            int id = 0;
            if (qos > 0) {
                id = allocateId();
                pending.put(id, done);
            }
            send(new PublishPacket(topic, qos, retain, false, id, io.starling.codec.Properties.EMPTY, payload), true);
            if (qos == 0) {
                done.complete(null);
            }
        });
        MqttPacket ack = await(done, qos == 0 ? "the write" : qos == 1 ? "PUBACK" : "PUBCOMP");
        ReasonCode rc = ack instanceof PubAckPacket a ? a.reasonCode() : ack instanceof PubRecPacket r ? r.reasonCode()
                : ack instanceof PubCompPacket c ? c.reasonCode() : ReasonCode.SUCCESS;
        if (rc.isError()) {
            throw new ClientException(ClientException.REFUSED, "publish to " + topic + " refused: " + describe(rc));
        }
    }

    /** Subscribes and waits for the SUBACK; returns its reason codes (granted QoS or errors). */
    public List<ReasonCode> subscribe(List<TopicSubscription> subscriptions) throws ClientException {
        CompletableFuture<MqttPacket> done = new CompletableFuture<>();
        channel.eventLoop().execute(() -> {
            int id = allocateId();
            pending.put(id, done);
            send(new SubscribePacket(id, subscriptions, io.starling.codec.Properties.EMPTY), true);
        });
        return ((SubAckPacket) await(done, "SUBACK")).reasonCodes();
    }

    /** Sends DISCONNECT and closes. */
    @Override
    public void close() {
        if (channel != null && channel.isActive()) {
            channel.eventLoop().execute(() -> {
                send(DisconnectPacket.NORMAL, true);
                channel.close();
            });
            channel.closeFuture().awaitUninterruptibly(timeoutMillis);
        }
    }

    private <T> T await(CompletableFuture<T> f, String what) throws ClientException {
        try {
            CompletableFuture.anyOf(f, closed).get(timeoutMillis, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new ClientException(ClientException.NETWORK, "no " + what + " within " + timeoutMillis + " ms");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ClientException(ClientException.NETWORK, "interrupted waiting for " + what);
        } catch (ExecutionException e) {
            throw new ClientException(ClientException.NETWORK, what + " failed: " + e.getCause());
        }
        if (f.isDone()) {
            return f.join();
        }
        return failClosed(what);
    }

    private <T> T failClosed(String what) throws ClientException {
        String reason = closed.getNow("closed");
        int code = disconnectReason != null ? ClientException.REFUSED : ClientException.NETWORK;
        throw new ClientException(code, "connection closed before " + what + ": " + reason);
    }

    private int allocateId() {
        int id;
        do {
            id = nextPacketId;
            nextPacketId = nextPacketId == 65535 ? 1 : nextPacketId + 1;
        } while (pending.containsKey(id));
        return id;
    }

    private void send(MqttPacket packet, boolean flush) {
        if (!channel.isActive()) {
            return;
        }
        ByteBuf buf = PacketEncoder.encode(channel.alloc(), packet, version);
        if (flush) {
            channel.writeAndFlush(buf, channel.voidPromise());
        } else {
            channel.write(buf, channel.voidPromise());
        }
    }

    @Override
    protected void onPacket(ChannelHandlerContext ctx, int firstByte, ByteBuf in, int bodyStart, int bodyLength)
            throws DecodeException {
        MqttPacket packet = PacketDecoder.decode(firstByte, body(in, bodyStart, bodyLength), version,
                PacketDecoder.Sender.SERVER);
        switch (packet.type()) {
            case CONNACK:
                connAck.complete((ConnAckPacket) packet);
                break;
            case PUBLISH: {
                PublishPacket p = (PublishPacket) packet;
                if (p.qos() == 1) {
                    send(PubAckPacket.of(p.packetId()), false);
                } else if (p.qos() == 2) {
                    send(PubRecPacket.of(p.packetId()), false);
                    if (!qos2Received.add(p.packetId())) {
                        break;
                    }
                }
                if (onMessage == null) {
                    early.add(p);
                } else {
                    onMessage.accept(p);
                }
                break;
            }
            case PUBREL:
                qos2Received.remove(((PubRelPacket) packet).packetId());
                send(PubCompPacket.of(((PubRelPacket) packet).packetId()), false);
                break;
            case PUBACK:
                complete(((PubAckPacket) packet).packetId(), packet);
                break;
            case PUBREC: {
                PubRecPacket r = (PubRecPacket) packet;
                if (r.reasonCode().isError()) {
                    complete(r.packetId(), packet);
                } else {
                    send(PubRelPacket.of(r.packetId()), false);
                }
                break;
            }
            case PUBCOMP:
                complete(((PubCompPacket) packet).packetId(), packet);
                break;
            case SUBACK:
                complete(((SubAckPacket) packet).packetId(), packet);
                break;
            case DISCONNECT: {
                DisconnectPacket d = (DisconnectPacket) packet;
                String reason = d.properties().reasonString();
                disconnectReason = "DISCONNECT from the broker: " + describe(d.reasonCode())
                        + (reason == null ? "" : " (" + reason + ")");
                ctx.close();
                break;
            }
            default:
                break;
        }
    }

    private void complete(int packetId, MqttPacket packet) {
        CompletableFuture<MqttPacket> f = pending.remove(packetId);
        if (f != null) {
            f.complete(packet);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) throws Exception {
        ctx.flush();
        super.channelReadComplete(ctx);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        if (pinger != null) {
            pinger.cancel(false);
        }
        closed.complete(disconnectReason != null ? disconnectReason : "connection closed by the broker");
        super.channelInactive(ctx);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (disconnectReason == null) {
            disconnectReason = cause instanceof DecodeException ? "bad packet from the broker: " + cause.getMessage()
                    : null;
        }
        closed.complete(cause.toString());
        ctx.close();
    }
}
