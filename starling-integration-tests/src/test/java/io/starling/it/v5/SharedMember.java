package io.starling.it.v5;

import io.starling.it.Msg;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * A Paho client (mqttv5 or mqttv3 speaking 3.1.1) for the shared subscription tests, connected to any host and port
 * (the tests run brokers of their own for the strategies): clean session, messages collected in arrival order.
 *
 * <p>Paho's asynchronous clients, so that the members of a test connect in parallel (a Paho connect takes about
 * 300 ms here): the factories start the connect, every operation first waits for it to complete.
 */
final class SharedMember implements AutoCloseable {

    private static final long TIMEOUT_MS = 10_000;

    private final String id;
    private final BlockingQueue<Msg> messages = new LinkedBlockingQueue<>();
    private org.eclipse.paho.mqttv5.client.MqttAsyncClient v5;
    private org.eclipse.paho.client.mqttv3.MqttAsyncClient v3;
    private org.eclipse.paho.mqttv5.client.IMqttToken connect5;
    private org.eclipse.paho.client.mqttv3.IMqttToken connect3;
    private boolean ready;

    private SharedMember(String id) {
        this.id = id;
    }

    /** A Paho mqttv5 client, Clean Start, Session Expiry 0. */
    static SharedMember v5(String host, int port, String id) throws Exception {
        SharedMember m = new SharedMember(id);
        m.v5 = new org.eclipse.paho.mqttv5.client.MqttAsyncClient("tcp://" + host + ":" + port, id,
                new org.eclipse.paho.mqttv5.client.persist.MemoryPersistence());
        m.v5.setCallback(new org.eclipse.paho.mqttv5.client.MqttCallback() {
            @Override
            public void disconnected(org.eclipse.paho.mqttv5.client.MqttDisconnectResponse response) {
            }

            @Override
            public void mqttErrorOccurred(org.eclipse.paho.mqttv5.common.MqttException exception) {
            }

            @Override
            public void messageArrived(String topic, org.eclipse.paho.mqttv5.common.MqttMessage message) {
                m.messages.add(new Msg(topic, message.getPayload(), message.getQos(), message.isRetained()));
            }

            @Override
            public void deliveryComplete(org.eclipse.paho.mqttv5.client.IMqttToken token) {
            }

            @Override
            public void connectComplete(boolean reconnect, String serverUri) {
            }

            @Override
            public void authPacketArrived(int reasonCode, org.eclipse.paho.mqttv5.common.packet.MqttProperties properties) {
            }
        });
        org.eclipse.paho.mqttv5.client.MqttConnectionOptions o = new org.eclipse.paho.mqttv5.client.MqttConnectionOptions();
        o.setCleanStart(true);
        o.setSessionExpiryInterval(0L);
        o.setAutomaticReconnect(false);
        o.setConnectionTimeout(10);
        o.setKeepAliveInterval(60);
        try {
            m.connect5 = m.v5.connect(o);
        } catch (Exception e) {
            m.close();
            throw e;
        }
        return m;
    }

    /** A Paho mqttv3 client speaking MQTT 3.1.1, clean session. */
    static SharedMember v311(String host, int port, String id) throws Exception {
        SharedMember m = new SharedMember(id);
        m.v3 = new org.eclipse.paho.client.mqttv3.MqttAsyncClient("tcp://" + host + ":" + port, id,
                new org.eclipse.paho.client.mqttv3.persist.MemoryPersistence());
        m.v3.setCallback(new org.eclipse.paho.client.mqttv3.MqttCallback() {
            @Override
            public void connectionLost(Throwable cause) {
            }

            @Override
            public void messageArrived(String topic, org.eclipse.paho.client.mqttv3.MqttMessage message) {
                m.messages.add(new Msg(topic, message.getPayload(), message.getQos(), message.isRetained()));
            }

            @Override
            public void deliveryComplete(org.eclipse.paho.client.mqttv3.IMqttDeliveryToken token) {
            }
        });
        org.eclipse.paho.client.mqttv3.MqttConnectOptions o = new org.eclipse.paho.client.mqttv3.MqttConnectOptions();
        o.setCleanSession(true);
        o.setMqttVersion(org.eclipse.paho.client.mqttv3.MqttConnectOptions.MQTT_VERSION_3_1_1);
        o.setAutomaticReconnect(false);
        o.setConnectionTimeout(10);
        o.setKeepAliveInterval(60);
        try {
            m.connect3 = m.v3.connect(o);
        } catch (Exception e) {
            m.close();
            throw e;
        }
        return m;
    }

    String id() {
        return id;
    }

    /** Waits for the CONNACK (started by the factory). */
    private void ready() throws Exception {
        if (!ready) {
            if (v5 != null) {
                connect5.waitForCompletion(TIMEOUT_MS);
            } else {
                connect3.waitForCompletion(TIMEOUT_MS);
            }
            ready = true;
        }
    }

    /** Subscribes and returns the SUBACK's granted QoS / reason code. */
    int subscribe(String filter, int qos) throws Exception {
        ready();
        if (v5 != null) {
            org.eclipse.paho.mqttv5.client.IMqttToken t = v5.subscribe(
                    new org.eclipse.paho.mqttv5.common.MqttSubscription(filter, qos));
            t.waitForCompletion(TIMEOUT_MS);
            return t.getReasonCodes()[0];
        }
        org.eclipse.paho.client.mqttv3.IMqttToken t = v3.subscribe(filter, qos);
        t.waitForCompletion(TIMEOUT_MS);
        return t.getGrantedQos()[0];
    }

    void unsubscribe(String filter) throws Exception {
        ready();
        if (v5 != null) {
            v5.unsubscribe(filter).waitForCompletion(TIMEOUT_MS);
        } else {
            v3.unsubscribe(filter).waitForCompletion(TIMEOUT_MS);
        }
    }

    /** Publishes; returns once the QoS flow completed. */
    void publish(String topic, String payload, int qos) throws Exception {
        ready();
        byte[] bytes = payload.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        if (v5 != null) {
            v5.publish(topic, bytes, qos, false).waitForCompletion(TIMEOUT_MS);
        } else {
            v3.publish(topic, bytes, qos, false).waitForCompletion(TIMEOUT_MS);
        }
    }

    /** Publishes a retained QoS 1 message (an empty payload clears the retained message). */
    void publishRetained(String topic, String payload) throws Exception {
        ready();
        byte[] bytes = payload.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        if (v5 != null) {
            v5.publish(topic, bytes, 1, true).waitForCompletion(TIMEOUT_MS);
        } else {
            v3.publish(topic, bytes, 1, true).waitForCompletion(TIMEOUT_MS);
        }
    }

    BlockingQueue<Msg> messages() {
        return messages;
    }

    /** Normal disconnection (DISCONNECT, then close). */
    void disconnect() throws Exception {
        ready();
        if (v5 != null) {
            v5.disconnect(5_000).waitForCompletion(TIMEOUT_MS);
        } else {
            v3.disconnect(5_000).waitForCompletion(TIMEOUT_MS);
        }
    }

    @Override
    public void close() {
        try {
            if (v5 != null) {
                if (v5.isConnected()) {
                    v5.disconnectForcibly(0, 10, false);
                }
                v5.close(true);
            }
            if (v3 != null) {
                if (v3.isConnected()) {
                    v3.disconnectForcibly(0, 10, false);
                }
                v3.close(true);
            }
        } catch (Exception e) {
            // closing anyway
        }
    }

    @Override
    public String toString() {
        return id;
    }
}
