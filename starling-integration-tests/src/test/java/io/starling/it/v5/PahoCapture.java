package io.starling.it.v5;

import io.starling.it.BrokerExtension;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttCallback;
import org.eclipse.paho.mqttv5.client.MqttClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.MqttDisconnectResponse;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;

/**
 * A Paho mqttv5 client that keeps every received message whole (with its MQTT 5 properties), every DISCONNECT or
 * lost connection, and its CONNACK, for the feature tests that look at properties through a real client.
 */
final class PahoCapture implements AutoCloseable {

    /** A received message and the topic Paho reported for it (resolved from a Topic Alias if one was used). */
    record Received(String topic, MqttMessage message) {
        String text() {
            return new String(message.getPayload(), java.nio.charset.StandardCharsets.UTF_8);
        }
    }

    private final MqttClient client;
    private final BlockingQueue<Received> messages = new LinkedBlockingQueue<>();
    private final BlockingQueue<MqttDisconnectResponse> disconnects = new LinkedBlockingQueue<>();
    private IMqttToken connectToken;

    private PahoCapture(MqttClient client) {
        this.client = client;
    }

    static MqttConnectionOptions options() {
        MqttConnectionOptions o = new MqttConnectionOptions();
        o.setCleanStart(true);
        o.setAutomaticReconnect(false);
        o.setConnectionTimeout(10);
        o.setKeepAliveInterval(60);
        return o;
    }

    static PahoCapture connect(BrokerExtension broker, String clientId, MqttConnectionOptions options) throws MqttException {
        MqttClient c = new MqttClient("tcp://" + broker.host() + ":" + broker.port(), clientId, new MemoryPersistence());
        c.setTimeToWait(10_000);
        PahoCapture pc = new PahoCapture(c);
        c.setCallback(new MqttCallback() {
            @Override
            public void disconnected(MqttDisconnectResponse response) {
                pc.disconnects.add(response);
            }

            @Override
            public void mqttErrorOccurred(MqttException exception) {
            }

            @Override
            public void messageArrived(String topic, MqttMessage m) {
                pc.messages.add(new Received(topic, m));
            }

            @Override
            public void deliveryComplete(IMqttToken token) {
            }

            @Override
            public void connectComplete(boolean reconnect, String serverUri) {
            }

            @Override
            public void authPacketArrived(int reasonCode, MqttProperties properties) {
            }
        });
        try {
            pc.connectToken = c.connectWithResult(options);
        } catch (MqttException e) {
            pc.close();
            throw e;
        }
        return pc;
    }

    MqttClient paho() {
        return client;
    }

    MqttProperties connAckProperties() {
        return connectToken.getResponseProperties();
    }

    boolean sessionPresent() {
        return connectToken.getSessionPresent();
    }

    /** The next message, failing after 10 s. */
    Received next() throws InterruptedException {
        Received r = messages.poll(10, TimeUnit.SECONDS);
        if (r == null) {
            throw new AssertionError(client.getClientId() + ": no message within 10 s");
        }
        return r;
    }

    /** A message arriving within a short bounded period, or null. */
    Received pollQuietly() throws InterruptedException {
        return messages.poll(500, TimeUnit.MILLISECONDS);
    }

    /** The next DISCONNECT from the server (or lost connection), failing after 10 s. */
    MqttDisconnectResponse nextDisconnect() throws InterruptedException {
        MqttDisconnectResponse r = disconnects.poll(10, TimeUnit.SECONDS);
        if (r == null) {
            throw new AssertionError(client.getClientId() + ": not disconnected within 10 s");
        }
        return r;
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
