package io.starling.it;

import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import org.eclipse.paho.client.mqttv3.IMqttDeliveryToken;
import org.eclipse.paho.client.mqttv3.IMqttToken;
import org.eclipse.paho.client.mqttv3.MqttCallback;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.MqttMessage;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;

/** Paho mqttv3 (MQTT 3.1 or 3.1.1), synchronous API. */
public final class PahoV3Client implements TestClient {

    private final ClientKind kind;
    private final MqttClient client;
    private final BlockingQueue<Msg> messages = new LinkedBlockingQueue<>();
    private final BlockingQueue<Throwable> connectionLost = new LinkedBlockingQueue<>();
    private boolean sessionPresent;

    private PahoV3Client(ClientKind kind, MqttClient client) {
        this.kind = kind;
        this.client = client;
    }

    /** The options the tests use, to change before passing them to the connect method that takes options. */
    public static MqttConnectOptions options(ClientKind kind, boolean clean) {
        MqttConnectOptions o = new MqttConnectOptions();
        o.setMqttVersion(kind == ClientKind.PAHO_V31
                ? MqttConnectOptions.MQTT_VERSION_3_1 : MqttConnectOptions.MQTT_VERSION_3_1_1);
        o.setCleanSession(clean);
        o.setAutomaticReconnect(false);
        o.setConnectionTimeout(10);
        o.setKeepAliveInterval(60);
        o.setMaxInflight(100);
        return o;
    }

    public static PahoV3Client connect(ClientKind kind, BrokerExtension broker, String clientId, boolean clean)
            throws MqttException {
        return connect(kind, broker, clientId, options(kind, clean));
    }

    public static PahoV3Client connect(ClientKind kind, BrokerExtension broker, String clientId, MqttConnectOptions options)
            throws MqttException {
        MqttClient c = new MqttClient("tcp://" + broker.host() + ":" + broker.port(), clientId, new MemoryPersistence());
        c.setTimeToWait(10_000);
        PahoV3Client tc = new PahoV3Client(kind, c);
        c.setCallback(new MqttCallback() {
            @Override
            public void connectionLost(Throwable cause) {
                tc.connectionLost.add(cause);
            }

            @Override
            public void messageArrived(String topic, MqttMessage m) {
                tc.messages.add(new Msg(topic, m.getPayload(), m.getQos(), m.isRetained()));
            }

            @Override
            public void deliveryComplete(IMqttDeliveryToken token) {
            }
        });
        try {
            IMqttToken token = c.connectWithResult(options);
            tc.sessionPresent = token.getSessionPresent();
        } catch (MqttException e) {
            tc.close();
            throw e;
        }
        return tc;
    }

    public MqttClient paho() {
        return client;
    }

    /** Causes of connectionLost callbacks (the broker closed the connection). */
    public BlockingQueue<Throwable> connectionLost() {
        return connectionLost;
    }

    @Override
    public ClientKind kind() {
        return kind;
    }

    @Override
    public String clientId() {
        return client.getClientId();
    }

    @Override
    public boolean sessionPresent() {
        return sessionPresent;
    }

    @Override
    public int[] subscribe(List<String> filters, List<Integer> qos) throws MqttException {
        int[] q = qos.stream().mapToInt(Integer::intValue).toArray();
        IMqttToken token = client.subscribeWithResponse(filters.toArray(new String[0]), q);
        return token.getGrantedQos();
    }

    @Override
    public void unsubscribe(String filter) throws MqttException {
        client.unsubscribe(filter);
    }

    @Override
    public void publish(String topic, byte[] payload, int qos, boolean retain) throws MqttException {
        // Paho's synchronous publish can return before its callback thread has lowered the in-flight count (a known
        // race in the client), so a fast loop of publishes can be refused by the client itself with "too many
        // publishes in progress" although nothing is in flight; such a publish was not sent: send it again
        // once the count has caught up
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
        while (true) {
            try {
                client.publish(topic, payload, qos, retain);
                return;
            } catch (MqttException e) {
                if (e.getReasonCode() != MqttException.REASON_CODE_MAX_INFLIGHT || System.nanoTime() > deadline) {
                    throw e;
                }
                java.util.concurrent.locks.LockSupport.parkNanos(100_000); // poll: the client offers no event for it
            }
        }
    }

    @Override
    public BlockingQueue<Msg> messages() {
        return messages;
    }

    @Override
    public void disconnect() throws MqttException {
        client.disconnect(5_000);
    }

    @Override
    public void close() {
        try {
            if (client.isConnected()) {
                client.disconnectForcibly(0, 50);
            }
        } catch (MqttException e) {
            // closing anyway
        }
        try {
            client.close(true);
        } catch (MqttException e) {
            // nothing to do
        }
    }
}
