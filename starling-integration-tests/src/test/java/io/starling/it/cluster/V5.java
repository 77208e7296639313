package io.starling.it.cluster;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttCallback;
import org.eclipse.paho.mqttv5.client.MqttClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.MqttDisconnectResponse;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;

/** A Paho 5.0 client of one node that records what it receives and how its connection ended. */
final class V5 implements MqttCallback, AutoCloseable {

    final MqttClient client;
    final BlockingQueue<String> received = new LinkedBlockingQueue<>();
    /** What arrived with DUP=1, as in {@link #received}. */
    final BlockingQueue<String> duplicates = new LinkedBlockingQueue<>();
    /** Reason codes of the DISCONNECTs the server sent. */
    final BlockingQueue<Integer> disconnects = new LinkedBlockingQueue<>();
    private final MqttConnectionOptions options = new MqttConnectionOptions();
    private boolean sessionPresent;

    V5(ClusterHarness.Node node, String clientId) throws MqttException {
        this(node.uri(), clientId);
    }

    /** A client of any broker at {@code uri} (e.g. the remote broker of a bridge). */
    V5(String uri, String clientId) throws MqttException {
        client = new MqttClient(uri, clientId, new MemoryPersistence());
        client.setCallback(this);
        options.setAutomaticReconnect(false);
        options.setConnectionTimeout(10);
        options.setKeepAliveInterval(60);
    }

    /** A persistent session: Clean Start 0, Session Expiry 1 hour. */
    V5 persistent() {
        options.setCleanStart(false);
        options.setSessionExpiryInterval(3600L);
        return this;
    }

    V5 will(String topic, String payload, long delaySeconds) {
        MqttMessage m = new MqttMessage(payload.getBytes(StandardCharsets.UTF_8));
        m.setQos(1);
        options.setWill(topic, m);
        if (delaySeconds > 0) {
            MqttProperties p = new MqttProperties();
            p.setWillDelayInterval(delaySeconds);
            options.setWillMessageProperties(p);
        }
        return this;
    }

    V5 connect() throws MqttException {
        IMqttToken t = client.connectWithResult(options);
        sessionPresent = t.getSessionPresent();
        return this;
    }

    boolean sessionPresent() {
        return sessionPresent;
    }

    V5 subscribe(String filter, int qos) throws MqttException {
        client.subscribe(filter, qos);
        return this;
    }

    void publish(String topic, String payload, int qos) throws MqttException {
        client.publish(topic, payload.getBytes(StandardCharsets.UTF_8), qos, false);
    }

    @Override
    public void disconnected(MqttDisconnectResponse r) {
        disconnects.add(r.getReturnCode());
    }

    @Override
    public void mqttErrorOccurred(MqttException e) {
    }

    @Override
    public void messageArrived(String topic, MqttMessage m) {
        String s = topic + "=" + new String(m.getPayload(), StandardCharsets.UTF_8);
        if (m.isDuplicate()) {
            duplicates.add(s);
        }
        received.add(s);
    }

    @Override
    public void deliveryComplete(IMqttToken t) {
    }

    @Override
    public void connectComplete(boolean reconnect, String uri) {
    }

    @Override
    public void authPacketArrived(int reasonCode, MqttProperties p) {
    }

    @Override
    public void close() {
        try {
            if (client.isConnected()) {
                client.disconnectForcibly(0, 50, false);
            }
            client.close(true);
        } catch (MqttException e) {
            // closing
        }
    }
}
