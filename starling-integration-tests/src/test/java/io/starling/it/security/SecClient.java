package io.starling.it.security;

import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt5.Mqtt5AsyncClient;
import com.hivemq.client.mqtt.mqtt5.Mqtt5Client;
import com.hivemq.client.mqtt.mqtt5.exceptions.Mqtt5PubAckException;
import com.hivemq.client.mqtt.mqtt5.exceptions.Mqtt5SubAckException;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5Publish;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5PublishResult;
import com.hivemq.client.mqtt.mqtt5.message.subscribe.suback.Mqtt5SubAck;
import io.starling.it.Msg;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.client.mqttv3.IMqttDeliveryToken;
import org.eclipse.paho.client.mqttv3.MqttCallback;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttMessage;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.client.MqttDisconnectResponse;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttSubscription;

/**
 * A client of the authorization tests: Paho v3 (3.1.1), Paho v5 or HiveMQ v5, connected with a user name and
 * password, reduced to what the tests look at: the SUBACK code of one filter, the acknowledgement code of a PUBLISH
 * and the messages received.
 */
abstract class SecClient implements AutoCloseable {

    /** Which library and protocol version. */
    enum Kind {
        PAHO_V311(4), PAHO_V5(5), HIVEMQ_V5(5);

        final int level;

        Kind(int level) {
            this.level = level;
        }
    }

    static final long TIMEOUT_MS = 10_000;

    final Kind kind;
    final String clientId;
    final BlockingQueue<Msg> messages = new LinkedBlockingQueue<>();

    SecClient(Kind kind, String clientId) {
        this.kind = kind;
        this.clientId = clientId;
    }

    static SecClient connect(Kind kind, int port, String clientId, String user, String password) throws Exception {
        return switch (kind) {
            case PAHO_V311 -> new PahoV3(port, clientId, user, password);
            case PAHO_V5 -> new PahoV5(port, clientId, user, password);
            case HIVEMQ_V5 -> new HiveV5(port, clientId, user, password);
        };
    }

    /** SUBSCRIBE one filter at QoS 1; the SUBACK's code: granted QoS, or 0x80 (3.1.1) / the reason code (5.0). */
    abstract int subscribe(String filter) throws Exception;

    /** PUBLISH and wait for its flow to end; the PUBACK/PUBREC reason code (always 0 on 3.1.1; 0 for QoS 0). */
    abstract int publish(String topic, String payload, int qos, boolean retain) throws Exception;

    int publish(String topic, String payload) throws Exception {
        return publish(topic, payload, 1, false);
    }

    /** Takes messages until one on {@code topic} arrives (failing after 10 s); returns those before it. */
    List<Msg> until(String topic) throws InterruptedException {
        List<Msg> before = new ArrayList<>();
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(TIMEOUT_MS);
        while (true) {
            Msg m = messages.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (m == null) {
                throw new AssertionError(kind + " " + clientId + ": no message on " + topic + " within 10 s; got "
                        + before);
            }
            if (m.topic().equals(topic)) {
                return before;
            }
            before.add(m);
        }
    }

    @Override
    public abstract void close();

    private static final class PahoV3 extends SecClient {
        private final org.eclipse.paho.client.mqttv3.MqttClient c;

        PahoV3(int port, String clientId, String user, String password) throws Exception {
            super(Kind.PAHO_V311, clientId);
            c = new org.eclipse.paho.client.mqttv3.MqttClient("tcp://127.0.0.1:" + port, clientId,
                    new org.eclipse.paho.client.mqttv3.persist.MemoryPersistence());
            c.setTimeToWait(TIMEOUT_MS);
            c.setCallback(new MqttCallback() {
                @Override
                public void connectionLost(Throwable cause) {
                }

                @Override
                public void messageArrived(String topic, MqttMessage m) {
                    messages.add(new Msg(topic, m.getPayload(), m.getQos(), m.isRetained()));
                }

                @Override
                public void deliveryComplete(IMqttDeliveryToken token) {
                }
            });
            MqttConnectOptions o = new MqttConnectOptions();
            o.setMqttVersion(MqttConnectOptions.MQTT_VERSION_3_1_1);
            o.setCleanSession(true);
            o.setConnectionTimeout(10);
            // Paho counts a QoS 1 PUBLISH as in flight until its callback thread has seen the PUBACK, which may be
            // after publish() returned: a test publishing many in a row must not hit the default limit of 10
            o.setMaxInflight(1000);
            if (user != null) {
                o.setUserName(user);
                o.setPassword(password.toCharArray());
            }
            try {
                c.connect(o);
            } catch (Exception e) {
                c.close(true);
                throw e;
            }
        }

        @Override
        int subscribe(String filter) throws Exception {
            return c.subscribeWithResponse(filter, 1).getGrantedQos()[0];
        }

        @Override
        int publish(String topic, String payload, int qos, boolean retain) throws Exception {
            c.publish(topic, payload.getBytes(StandardCharsets.UTF_8), qos, retain);
            return 0;
        }

        @Override
        public void close() {
            try {
                if (c.isConnected()) {
                    c.disconnectForcibly(0, 50);
                }
                c.close(true);
            } catch (Exception e) {
                // closing anyway
            }
        }
    }

    private static final class PahoV5 extends SecClient {
        private final MqttAsyncClient c;

        PahoV5(int port, String clientId, String user, String password) throws Exception {
            super(Kind.PAHO_V5, clientId);
            c = new MqttAsyncClient("tcp://127.0.0.1:" + port, clientId,
                    new org.eclipse.paho.mqttv5.client.persist.MemoryPersistence());
            c.setCallback(new org.eclipse.paho.mqttv5.client.MqttCallback() {
                @Override
                public void messageArrived(String topic, org.eclipse.paho.mqttv5.common.MqttMessage m) {
                    messages.add(new Msg(topic, m.getPayload(), m.getQos(), m.isRetained()));
                }

                @Override
                public void disconnected(MqttDisconnectResponse response) {
                }

                @Override
                public void mqttErrorOccurred(MqttException exception) {
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
            MqttConnectionOptions o = new MqttConnectionOptions();
            o.setCleanStart(true);
            o.setConnectionTimeout(10);
            if (user != null) {
                o.setUserName(user);
                o.setPassword(password.getBytes(StandardCharsets.UTF_8));
            }
            try {
                c.connect(o).waitForCompletion(TIMEOUT_MS);
            } catch (Exception e) {
                c.close(true);
                throw e;
            }
        }

        @Override
        int subscribe(String filter) throws Exception {
            try {
                IMqttToken t = c.subscribe(new MqttSubscription(filter, 1));
                t.waitForCompletion(TIMEOUT_MS);
                return t.getReasonCodes()[0];
            } catch (MqttException e) {
                return e.getReasonCode();
            }
        }

        @Override
        int publish(String topic, String payload, int qos, boolean retain) throws Exception {
            org.eclipse.paho.mqttv5.common.MqttMessage m =
                    new org.eclipse.paho.mqttv5.common.MqttMessage(payload.getBytes(StandardCharsets.UTF_8));
            m.setQos(qos);
            m.setRetained(retain);
            try {
                IMqttToken t = c.publish(topic, m);
                t.waitForCompletion(TIMEOUT_MS);
                int[] codes = t.getReasonCodes();
                return codes == null || codes.length == 0 ? 0 : codes[0];
            } catch (MqttException e) {
                return e.getReasonCode();
            }
        }

        @Override
        public void close() {
            try {
                if (c.isConnected()) {
                    c.disconnectForcibly(0, 50, false);
                }
                c.close(true);
            } catch (Exception e) {
                // closing anyway
            }
        }
    }

    private static final class HiveV5 extends SecClient {
        private final Mqtt5AsyncClient c;

        HiveV5(int port, String clientId, String user, String password) throws Exception {
            super(Kind.HIVEMQ_V5, clientId);
            c = Mqtt5Client.builder().identifier(clientId).serverHost("127.0.0.1").serverPort(port).buildAsync();
            c.publishes(com.hivemq.client.mqtt.MqttGlobalPublishFilter.ALL, p -> messages.add(new Msg(
                    p.getTopic().toString(), p.getPayloadAsBytes(), p.getQos().getCode(), p.isRetain())));
            var connect = c.connectWith().cleanStart(true);
            if (user != null) {
                connect = connect.simpleAuth().username(user).password(password.getBytes(StandardCharsets.UTF_8))
                        .applySimpleAuth();
            }
            connect.send().get(TIMEOUT_MS, TimeUnit.MILLISECONDS);
        }

        @Override
        int subscribe(String filter) throws Exception {
            Mqtt5SubAck ack;
            try {
                ack = c.subscribeWith().topicFilter(filter).qos(MqttQos.AT_LEAST_ONCE).send()
                        .get(TIMEOUT_MS, TimeUnit.MILLISECONDS);
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof Mqtt5SubAckException s)) {
                    throw e;
                }
                ack = s.getMqttMessage();
            }
            return ack.getReasonCodes().get(0).getCode();
        }

        @Override
        int publish(String topic, String payload, int qos, boolean retain) throws Exception {
            Mqtt5PublishResult r;
            try {
                r = c.publish(Mqtt5Publish.builder().topic(topic).qos(MqttQos.fromCode(qos))
                        .payload(payload.getBytes(StandardCharsets.UTF_8)).retain(retain).build())
                        .get(TIMEOUT_MS, TimeUnit.MILLISECONDS);
            } catch (ExecutionException e) {
                if (e.getCause() instanceof Mqtt5PubAckException p) {
                    return p.getMqttMessage().getReasonCode().getCode();
                }
                throw e;
            }
            if (r.getError().isPresent()) {
                if (r.getError().get() instanceof Mqtt5PubAckException e) {
                    return e.getMqttMessage().getReasonCode().getCode();
                }
                throw new IllegalStateException("publish failed", r.getError().get());
            }
            if (r instanceof Mqtt5PublishResult.Mqtt5Qos1Result q1) {
                return q1.getPubAck().getReasonCode().getCode();
            }
            return 0;
        }

        @Override
        public void close() {
            try {
                c.disconnect().get(2, TimeUnit.SECONDS);
            } catch (Exception e) {
                // closing anyway
            }
        }
    }
}
