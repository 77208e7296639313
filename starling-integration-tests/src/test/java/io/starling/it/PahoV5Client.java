package io.starling.it;

import java.util.List;
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
import org.eclipse.paho.mqttv5.common.MqttSubscription;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;

/** Paho mqttv5, synchronous API. */
public final class PahoV5Client implements TestClient {

    private final MqttClient client;
    private final BlockingQueue<Msg> messages = new LinkedBlockingQueue<>();
    private final BlockingQueue<MqttDisconnectResponse> disconnects = new LinkedBlockingQueue<>();
    private IMqttToken connectToken;

    private PahoV5Client(MqttClient client) {
        this.client = client;
    }

    public static MqttConnectionOptions options(boolean clean, long sessionExpirySeconds) {
        MqttConnectionOptions o = new MqttConnectionOptions();
        o.setCleanStart(clean);
        o.setSessionExpiryInterval(sessionExpirySeconds);
        o.setAutomaticReconnect(false);
        o.setConnectionTimeout(10);
        o.setKeepAliveInterval(60);
        return o;
    }

    public static PahoV5Client connect(BrokerExtension broker, String clientId, boolean clean, long sessionExpirySeconds)
            throws MqttException {
        return connect(broker, clientId, options(clean, sessionExpirySeconds));
    }

    public static PahoV5Client connect(BrokerExtension broker, String clientId, MqttConnectionOptions options)
            throws MqttException {
        MqttClient c = new MqttClient("tcp://" + broker.host() + ":" + broker.port(), clientId, new MemoryPersistence());
        c.setTimeToWait(10_000);
        PahoV5Client tc = new PahoV5Client(c);
        c.setCallback(new MqttCallback() {
            @Override
            public void disconnected(MqttDisconnectResponse response) {
                tc.disconnects.add(response);
            }

            @Override
            public void mqttErrorOccurred(MqttException exception) {
            }

            @Override
            public void messageArrived(String topic, MqttMessage m) {
                tc.messages.add(new Msg(topic, m.getPayload(), m.getQos(), m.isRetained()));
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
            tc.connectToken = c.connectWithResult(options);
        } catch (MqttException e) {
            tc.close();
            throw e;
        }
        return tc;
    }

    public MqttClient paho() {
        return client;
    }

    /** The CONNACK's properties (Assigned Client Identifier, ...). */
    public MqttProperties connAckProperties() {
        return connectToken.getResponseProperties();
    }

    /** DISCONNECT packets from the broker and lost connections, as Paho reports them. */
    public BlockingQueue<MqttDisconnectResponse> disconnects() {
        return disconnects;
    }

    @Override
    public ClientKind kind() {
        return ClientKind.PAHO_V5;
    }

    @Override
    public String clientId() {
        return client.getClientId();
    }

    @Override
    public boolean sessionPresent() {
        return connectToken.getSessionPresent();
    }

    @Override
    public int[] subscribe(List<String> filters, List<Integer> qos) throws MqttException {
        MqttSubscription[] subs = new MqttSubscription[filters.size()];
        for (int i = 0; i < subs.length; i++) {
            subs[i] = new MqttSubscription(filters.get(i), qos.get(i));
        }
        return client.subscribe(subs).getReasonCodes();
    }

    @Override
    public void unsubscribe(String filter) throws MqttException {
        client.unsubscribe(filter);
    }

    @Override
    public void publish(String topic, byte[] payload, int qos, boolean retain) throws MqttException {
        client.publish(topic, payload, qos, retain);
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
