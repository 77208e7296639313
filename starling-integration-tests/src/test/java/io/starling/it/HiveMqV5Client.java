package io.starling.it;

import com.hivemq.client.mqtt.MqttGlobalPublishFilter;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt5.Mqtt5AsyncClient;
import com.hivemq.client.mqtt.mqtt5.Mqtt5Client;
import com.hivemq.client.mqtt.mqtt5.message.connect.Mqtt5Connect;
import com.hivemq.client.mqtt.mqtt5.message.connect.connack.Mqtt5ConnAck;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5Publish;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5PublishResult;
import com.hivemq.client.mqtt.mqtt5.message.subscribe.Mqtt5Subscribe;
import com.hivemq.client.mqtt.mqtt5.message.subscribe.Mqtt5Subscription;
import com.hivemq.client.mqtt.mqtt5.message.subscribe.suback.Mqtt5SubAck;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** HiveMQ MQTT client, MQTT 5: the async API throughout (futures joined with a timeout). */
public final class HiveMqV5Client implements TestClient {

    private static final long TIMEOUT_S = 10;

    private final Mqtt5AsyncClient client;
    private final String clientId;
    private final BlockingQueue<Msg> messages = new LinkedBlockingQueue<>();
    private Mqtt5ConnAck connAck;

    private HiveMqV5Client(Mqtt5AsyncClient client, String clientId) {
        this.client = client;
        this.clientId = clientId;
    }

    public static HiveMqV5Client connect(BrokerExtension broker, String clientId, boolean clean, long sessionExpirySeconds)
            throws Exception {
        Mqtt5AsyncClient c = Mqtt5Client.builder()
                .identifier(clientId)
                .serverHost(broker.host())
                .serverPort(broker.port())
                .buildAsync();
        HiveMqV5Client tc = new HiveMqV5Client(c, clientId);
        c.publishes(MqttGlobalPublishFilter.ALL, p -> tc.messages.add(toMsg(p)));
        tc.connAck = c.connect(Mqtt5Connect.builder().cleanStart(clean).sessionExpiryInterval(sessionExpirySeconds)
                .keepAlive(60).build()).get(TIMEOUT_S, TimeUnit.SECONDS);
        return tc;
    }

    static Msg toMsg(Mqtt5Publish p) {
        return new Msg(p.getTopic().toString(), p.getPayloadAsBytes(), p.getQos().getCode(), p.isRetain());
    }

    public Mqtt5AsyncClient hivemq() {
        return client;
    }

    public Mqtt5ConnAck connAck() {
        return connAck;
    }

    @Override
    public ClientKind kind() {
        return ClientKind.HIVEMQ_V5;
    }

    @Override
    public String clientId() {
        return clientId;
    }

    @Override
    public boolean sessionPresent() {
        return connAck.isSessionPresent();
    }

    @Override
    public int[] subscribe(List<String> filters, List<Integer> qos) throws Exception {
        List<Mqtt5Subscription> subs = new ArrayList<>();
        for (int i = 0; i < filters.size(); i++) {
            MqttQos q = MqttQos.fromCode(qos.get(i));
            subs.add(Mqtt5Subscription.builder().topicFilter(filters.get(i)).qos(q).build());
        }
        Mqtt5SubAck ack = client.subscribe(Mqtt5Subscribe.builder().addSubscriptions(subs).build())
                .get(TIMEOUT_S, TimeUnit.SECONDS);
        return ack.getReasonCodes().stream().mapToInt(c -> c.getCode()).toArray();
    }

    @Override
    public void unsubscribe(String filter) throws Exception {
        client.unsubscribeWith().topicFilter(filter).send().get(TIMEOUT_S, TimeUnit.SECONDS);
    }

    @Override
    public void publish(String topic, byte[] payload, int qos, boolean retain) throws Exception {
        Mqtt5PublishResult result = client.publish(
                Mqtt5Publish.builder().topic(topic).qos(MqttQos.fromCode(qos)).payload(payload).retain(retain).build())
                .get(TIMEOUT_S, TimeUnit.SECONDS);
        if (result.getError().isPresent()) {
            throw new IllegalStateException("publish failed", result.getError().get());
        }
    }

    @Override
    public BlockingQueue<Msg> messages() {
        return messages;
    }

    @Override
    public void disconnect() throws Exception {
        client.disconnect().get(TIMEOUT_S, TimeUnit.SECONDS);
    }

    @Override
    public void close() {
        try {
            if (client.getState().isConnected()) {
                client.disconnect().get(TIMEOUT_S, TimeUnit.SECONDS);
            }
        } catch (Exception e) {
            // closing anyway
        }
    }
}
