package io.starling.cluster.route;

import io.netty.util.concurrent.EventExecutor;
import io.starling.broker.Broker;
import io.starling.broker.message.Message;
import io.starling.broker.message.PendingWill;
import io.starling.broker.session.ClientConnection;
import io.starling.broker.session.Session;
import io.starling.broker.topic.Subscription;
import io.starling.codec.Properties;
import io.starling.codec.ProtocolVersion;
import io.starling.codec.ReasonCode;
import io.starling.codec.packet.MqttPacket;
import io.starling.codec.packet.PublishPacket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * A client of one node's broker without a socket: the broker's own session API with a connection that records what
 * it is sent and acknowledges QoS 1 and 2 at once, as a well-behaved client would.
 */
final class TestClient implements ClientConnection {

    final String clientId;
    final Broker broker;
    final EventExecutor loop;
    final List<PublishPacket> received = new CopyOnWriteArrayList<>();
    Session session;

    private TestClient(String clientId, Broker broker, EventExecutor loop) {
        this.clientId = clientId;
        this.broker = broker;
        this.loop = loop;
    }

    /** Connects a client with a clean, non-persistent session. */
    static TestClient connect(ClusterTestNode node, String clientId) throws Exception {
        return connect(node, clientId, true, 0);
    }

    /** Connects a client: with {@code cleanStart} false and an expiry, its session outlives the connection. */
    static TestClient connect(ClusterTestNode node, String clientId, boolean cleanStart, long expirySeconds)
            throws Exception {
        TestClient c = new TestClient(clientId, node.broker, node.group.next());
        CompletableFuture<Session> opened = new CompletableFuture<>();
        node.broker.sessions().open(clientId, cleanStart, expirySeconds, c, (s, present) -> {
            c.session = s;
            s.resume(); // after CONNACK: what the session kept is sent (as the server's connection does)
            opened.complete(s);
        });
        opened.get(10, TimeUnit.SECONDS);
        return c;
    }

    /** The connection ends (without a Will): a persistent session stays, offline, and stores its messages. */
    void disconnect() throws Exception {
        session.owner().submit(() -> broker.sessions().onConnectionClosed(session, this, null)).get(10, TimeUnit.SECONDS);
    }

    void subscribe(String filter, int qos) throws Exception {
        subscribe(filter, qos, false);
    }

    void subscribe(String filter, int qos, boolean noLocal) throws Exception {
        String group = filter.startsWith("$share/") ? filter.split("/")[1] : null;
        Subscription s = new Subscription(clientId, filter, qos, noLocal, false, 0, 0, group);
        session.owner().submit(() -> broker.subscribe(session, s)).get(10, TimeUnit.SECONDS);
    }

    void unsubscribe(String filter) throws Exception {
        session.owner().submit(() -> broker.unsubscribe(session, filter)).get(10, TimeUnit.SECONDS);
    }

    ReasonCode publish(String topic, int qos, String payload) throws Exception {
        return publish(topic, qos, payload, Properties.EMPTY);
    }

    ReasonCode publish(String topic, int qos, String payload, Properties p) throws Exception {
        Message m = Message.published(topic, qos, false, payload.getBytes(StandardCharsets.UTF_8), p, clientId,
                System.currentTimeMillis());
        return loop.submit(() -> broker.publish(m, true)).get(10, TimeUnit.SECONDS);
    }

    /** Publishes many messages in one pass of the loop, as one read batch of a client would. */
    void publishAll(String topic, int qos, int from, int to) throws Exception {
        loop.submit(() -> {
            for (int i = from; i < to; i++) {
                broker.publish(Message.published(topic, qos, false, Integer.toString(i).getBytes(StandardCharsets.UTF_8),
                        Properties.EMPTY, clientId, System.currentTimeMillis()), true);
            }
        }).get(10, TimeUnit.SECONDS);
    }

    List<String> payloads() {
        List<String> out = new ArrayList<>();
        for (PublishPacket p : received) {
            out.add(new String(p.payload(), StandardCharsets.UTF_8));
        }
        return out;
    }

    @Override
    public ProtocolVersion version() {
        return ProtocolVersion.MQTT_5;
    }

    @Override
    public EventExecutor eventLoop() {
        return loop;
    }

    @Override
    public boolean isWritable() {
        return true;
    }

    @Override
    public void write(MqttPacket packet) {
        if (packet instanceof PublishPacket p) {
            received.add(p);
            if (p.qos() == 1) {
                loop.execute(() -> session.onPubAck(p.packetId()));
            } else if (p.qos() == 2) {
                loop.execute(() -> session.onPubRec(p.packetId(), ReasonCode.SUCCESS));
            }
        } else if (packet instanceof io.starling.codec.packet.PubRelPacket r) {
            loop.execute(() -> session.onPubComp(r.packetId()));
        }
    }

    @Override
    public int clientReceiveMaximum() {
        return 65535;
    }

    @Override
    public long clientMaximumPacketSize() {
        return Long.MAX_VALUE;
    }

    @Override
    public void closeForTakeover() {
    }

    @Override
    public PendingWill takeWill() {
        return null;
    }

    @Override
    public void closeWithReason(ReasonCode reason) {
    }
}
