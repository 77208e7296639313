package io.starling.it.bridge;

import io.starling.it.Msg;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.client.mqttv3.IMqttDeliveryToken;
import org.eclipse.paho.client.mqttv3.MqttCallback;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.MqttMessage;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;

/** A Paho 3.1.1 client on either side of a bridge: what it receives goes to {@link #messages()}. */
final class Peer implements AutoCloseable {

    private final MqttClient client;
    private final BlockingQueue<Msg> messages = new LinkedBlockingQueue<>();

    private Peer(MqttClient client) {
        this.client = client;
    }

    static Peer connect(String uri, String clientId) throws MqttException {
        return connect(uri, clientId, true);
    }

    static Peer connect(String uri, String clientId, boolean clean) throws MqttException {
        MqttClient c = new MqttClient(uri, clientId, new MemoryPersistence());
        c.setTimeToWait(10_000);
        Peer p = new Peer(c);
        c.setCallback(new MqttCallback() {
            @Override
            public void connectionLost(Throwable cause) {
                // the test sees it in what does not arrive
            }

            @Override
            public void messageArrived(String topic, MqttMessage m) {
                p.messages.add(new Msg(topic, m.getPayload(), m.getQos(), m.isRetained()));
            }

            @Override
            public void deliveryComplete(IMqttDeliveryToken token) {
                // publish() waits for it
            }
        });
        MqttConnectOptions o = new MqttConnectOptions();
        o.setCleanSession(clean);
        o.setMqttVersion(MqttConnectOptions.MQTT_VERSION_3_1_1);
        o.setKeepAliveInterval(30);
        o.setMaxInflight(1000);
        c.connect(o);
        return p;
    }

    Peer subscribe(String filter, int qos) throws MqttException {
        client.subscribe(filter, qos);
        return this;
    }

    /** Publishes and waits for the PUBACK/PUBCOMP of QoS 1/2. */
    void publish(String topic, String payload, int qos) throws MqttException {
        publish(topic, payload, qos, false);
    }

    void publish(String topic, String payload, int qos, boolean retain) throws MqttException {
        MqttMessage m = new MqttMessage(payload.getBytes(StandardCharsets.UTF_8));
        m.setQos(qos);
        m.setRetained(retain);
        client.publish(topic, m);
    }

    BlockingQueue<Msg> messages() {
        return messages;
    }

    /** The next message, failing the test if none comes within 20 s. */
    Msg next() throws InterruptedException {
        Msg m = messages.poll(20, TimeUnit.SECONDS);
        if (m == null) {
            throw new AssertionError("no message within 20 s");
        }
        return m;
    }

    /** The next {@code n} messages (20 s for each at most). */
    List<Msg> next(int n) throws InterruptedException {
        List<Msg> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(next());
        }
        return out;
    }

    /** The payloads of the next {@code n} messages. */
    List<String> texts(int n) throws InterruptedException {
        List<String> out = new ArrayList<>();
        for (Msg m : next(n)) {
            out.add(m.text());
        }
        return out;
    }

    void disconnect() throws MqttException {
        client.disconnect(5_000);
    }

    /**
     * DISCONNECT (without waiting for work in progress: a test that needs it waits for it itself), then closes. Not
     * Paho's forcible disconnect, which waits its whole timeout for a DISCONNECT that no server answers.
     */
    @Override
    public void close() {
        try {
            if (client.isConnected()) {
                client.disconnect(0);
            }
        } catch (MqttException e) {
            // the connection is gone already
        }
        try {
            client.close(true);
        } catch (MqttException e) {
            // best effort
        }
    }
}
