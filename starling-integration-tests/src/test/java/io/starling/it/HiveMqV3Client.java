package io.starling.it;

import com.hivemq.client.mqtt.MqttGlobalPublishFilter;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt3.Mqtt3BlockingClient;
import com.hivemq.client.mqtt.mqtt3.Mqtt3Client;
import com.hivemq.client.mqtt.mqtt3.message.connect.Mqtt3Connect;
import com.hivemq.client.mqtt.mqtt3.message.connect.connack.Mqtt3ConnAck;
import com.hivemq.client.mqtt.mqtt3.message.publish.Mqtt3Publish;
import com.hivemq.client.mqtt.mqtt3.message.subscribe.Mqtt3Subscribe;
import com.hivemq.client.mqtt.mqtt3.message.subscribe.Mqtt3Subscription;
import com.hivemq.client.mqtt.mqtt3.message.subscribe.suback.Mqtt3SubAck;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;

/** HiveMQ MQTT client, MQTT 3.1.1: blocking API for connect/subscribe/publish, async API for receiving. */
public final class HiveMqV3Client implements TestClient {

    private final Mqtt3BlockingClient client;
    private final String clientId;
    private final BlockingQueue<Msg> messages = new LinkedBlockingQueue<>();
    private Mqtt3ConnAck connAck;

    private HiveMqV3Client(Mqtt3BlockingClient client, String clientId) {
        this.client = client;
        this.clientId = clientId;
    }

    public static HiveMqV3Client connect(BrokerExtension broker, String clientId, boolean clean) {
        Mqtt3BlockingClient c = Mqtt3Client.builder()
                .identifier(clientId)
                .serverHost(broker.host())
                .serverPort(broker.port())
                .buildBlocking();
        HiveMqV3Client tc = new HiveMqV3Client(c, clientId);
        // registered before CONNECT so that messages queued in a persistent session are caught too
        c.toAsync().publishes(MqttGlobalPublishFilter.ALL, p -> tc.messages.add(toMsg(p)));
        tc.connAck = c.connect(Mqtt3Connect.builder().cleanSession(clean).keepAlive(60).build());
        return tc;
    }

    static Msg toMsg(Mqtt3Publish p) {
        return new Msg(p.getTopic().toString(), p.getPayloadAsBytes(), p.getQos().getCode(), p.isRetain());
    }

    public Mqtt3BlockingClient hivemq() {
        return client;
    }

    public Mqtt3ConnAck connAck() {
        return connAck;
    }

    @Override
    public ClientKind kind() {
        return ClientKind.HIVEMQ_V3;
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
    public int[] subscribe(List<String> filters, List<Integer> qos) {
        List<Mqtt3Subscription> subs = new ArrayList<>();
        for (int i = 0; i < filters.size(); i++) {
            MqttQos q = MqttQos.fromCode(qos.get(i));
            subs.add(Mqtt3Subscription.builder().topicFilter(filters.get(i)).qos(q).build());
        }
        Mqtt3SubAck ack = client.subscribe(Mqtt3Subscribe.builder().addSubscriptions(subs).build());
        return ack.getReturnCodes().stream().mapToInt(c -> c.getCode()).toArray();
    }

    @Override
    public void unsubscribe(String filter) {
        client.unsubscribeWith().topicFilter(filter).send();
    }

    @Override
    public void publish(String topic, byte[] payload, int qos, boolean retain) {
        client.publish(Mqtt3Publish.builder().topic(topic).qos(MqttQos.fromCode(qos)).payload(payload).retain(retain).build());
    }

    @Override
    public BlockingQueue<Msg> messages() {
        return messages;
    }

    @Override
    public void disconnect() {
        client.disconnect();
    }

    @Override
    public void close() {
        try {
            if (client.getState().isConnected()) {
                client.disconnect();
            }
        } catch (RuntimeException e) {
            // closing anyway
        }
    }
}
