package io.starling.it.v5;

import io.starling.broker.config.BrokerConfig;
import io.starling.server.StarlingServer;
import io.starling.testkit.RawClient;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;

/**
 * Decoding of the MQTT 5.0 packets the broker sends, for the assertions of the feature tests in this package: the
 * reason code and the property block of CONNACK, PUBLISH, PUBACK/PUBREC/PUBREL/PUBCOMP, SUBACK/UNSUBACK, DISCONNECT
 * and AUTH, parsed property by property (2.2.2.2) so that a test can assert exact values and the absence of others.
 */
final class V5 {

    /** Property identifiers (5.0 table 2-4). */
    static final int PAYLOAD_FORMAT = 0x01;
    static final int MESSAGE_EXPIRY = 0x02;
    static final int CONTENT_TYPE = 0x03;
    static final int RESPONSE_TOPIC = 0x08;
    static final int CORRELATION_DATA = 0x09;
    static final int SUBSCRIPTION_ID = 0x0B;
    static final int SESSION_EXPIRY = 0x11;
    static final int SERVER_KEEP_ALIVE = 0x13;
    static final int RESPONSE_INFORMATION = 0x1A;
    static final int REASON_STRING = 0x1F;
    static final int RECEIVE_MAXIMUM = 0x21;
    static final int TOPIC_ALIAS_MAXIMUM = 0x22;
    static final int TOPIC_ALIAS = 0x23;
    static final int MAXIMUM_QOS = 0x24;
    static final int RETAIN_AVAILABLE = 0x25;
    static final int USER_PROPERTY = 0x26;
    static final int MAXIMUM_PACKET_SIZE = 0x27;
    static final int WILDCARD_AVAILABLE = 0x28;
    static final int SUBSCRIPTION_ID_AVAILABLE = 0x29;
    static final int SHARED_AVAILABLE = 0x2A;

    private V5() {
    }

    /**
     * Starts an extra in-process broker with another configuration than the class's (on an ephemeral port, with a
     * temporary data directory), for a test that compares two configurations. Close it at the end of the test.
     */
    static StarlingServer startServer(Consumer<BrokerConfig.Builder> customiser) {
        BrokerConfig.Builder b = BrokerConfig.builder();
        customiser.accept(b);
        try {
            b.bindAddress("127.0.0.1").port(0).dataDir(Files.createTempDirectory("starling-v5-"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return StarlingServer.start(b.build());
    }

    /** SUBSCRIBE with HiveMQ; the reason codes of the SUBACK (HiveMQ reports a SUBACK with an error as an exception). */
    static int[] hivemqSubscribe(com.hivemq.client.mqtt.mqtt5.Mqtt5AsyncClient h, String... filters) throws Exception {
        List<com.hivemq.client.mqtt.mqtt5.message.subscribe.Mqtt5Subscription> subs = new ArrayList<>();
        for (String f : filters) {
            subs.add(com.hivemq.client.mqtt.mqtt5.message.subscribe.Mqtt5Subscription.builder().topicFilter(f)
                    .qos(com.hivemq.client.mqtt.datatypes.MqttQos.AT_LEAST_ONCE).build());
        }
        com.hivemq.client.mqtt.mqtt5.message.subscribe.suback.Mqtt5SubAck ack;
        try {
            ack = h.subscribe(com.hivemq.client.mqtt.mqtt5.message.subscribe.Mqtt5Subscribe.builder()
                    .addSubscriptions(subs).build()).get(10, java.util.concurrent.TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            if (!(e.getCause() instanceof com.hivemq.client.mqtt.mqtt5.exceptions.Mqtt5SubAckException s)) {
                throw e;
            }
            ack = s.getMqttMessage();
        }
        return ack.getReasonCodes().stream().mapToInt(r -> r.getCode()).toArray();
    }

    /** A raw connection to an extra broker. */
    static RawClient raw(StarlingServer server) {
        return RawClient.connect("127.0.0.1", server.port());
    }

    /** One decoded property: its identifier and value (Integer, Long, String, byte[] or String[2]). */
    record Prop(int id, Object value) {
        @Override
        public String toString() {
            Object v = value instanceof byte[] b ? RawClient.hex(b) : value instanceof String[] s ? Arrays.toString(s) : value;
            return String.format("0x%02x=%s", id, v);
        }
    }

    /** A decoded property block, in wire order. */
    record Props(List<Prop> list) {

        boolean has(int id) {
            return list.stream().anyMatch(p -> p.id == id);
        }

        Object get(int id) {
            return list.stream().filter(p -> p.id == id).map(Prop::value).findFirst().orElse(null);
        }

        Integer integer(int id) {
            Object v = get(id);
            return v == null ? null : ((Number) v).intValue();
        }

        Long u32(int id) {
            Object v = get(id);
            return v == null ? null : ((Number) v).longValue();
        }

        String string(int id) {
            return (String) get(id);
        }

        byte[] binary(int id) {
            return (byte[]) get(id);
        }

        /** All values of a property that may repeat (Subscription Identifier). */
        List<Integer> integers(int id) {
            return list.stream().filter(p -> p.id == id).map(p -> ((Number) p.value).intValue()).toList();
        }

        /** User Properties as "name=value", in wire order. */
        List<String> userProperties() {
            return list.stream().filter(p -> p.id == USER_PROPERTY)
                    .map(p -> ((String[]) p.value)[0] + "=" + ((String[]) p.value)[1]).toList();
        }

        /** The identifiers present, in wire order. */
        List<Integer> ids() {
            return list.stream().map(Prop::id).toList();
        }
    }

    /** A decoded server packet: type nibble, reason code (0 where the packet has none), properties, the bytes. */
    record Packet(int type, int reasonCode, Props props, byte[] bytes) {
        @Override
        public String toString() {
            return String.format("type 0x%x reason 0x%02x %s %s", type, reasonCode, props.list(), RawClient.hex(bytes));
        }
    }

    /** Index of the first byte after the fixed header. */
    static int bodyStart(byte[] p) {
        int i = 1;
        while ((p[i] & 0x80) != 0) {
            i++;
        }
        return i + 1;
    }

    /** Decodes a 5.0 packet sent by the server. */
    static Packet decode(byte[] p) {
        int type = (p[0] & 0xFF) >> 4;
        int b = bodyStart(p);
        int rl = p.length - b;
        int rc = 0;
        Props props = new Props(List.of());
        switch (type) {
            case 2 -> {                                    // CONNACK: flags, reason, properties
                rc = p[b + 1] & 0xFF;
                props = parse(p, b + 2);
            }
            case 3 -> {                                    // PUBLISH: topic, [packet id], properties
                int topicLen = (p[b] & 0xFF) << 8 | (p[b + 1] & 0xFF);
                int i = b + 2 + topicLen + (((p[0] >> 1) & 0x03) > 0 ? 2 : 0);
                props = parse(p, i);
            }
            case 4, 5, 6, 7 -> {                           // PUBACK..PUBCOMP: id, [reason, [properties]]
                rc = rl >= 3 ? p[b + 2] & 0xFF : 0;
                if (rl >= 4) {
                    props = parse(p, b + 3);
                }
            }
            case 9, 11 -> {                                // SUBACK / UNSUBACK: id, properties, reason codes
                props = parse(p, b + 2);
                rc = p[p.length - 1] & 0xFF;               // the last reason code
            }
            case 14, 15 -> {                               // DISCONNECT / AUTH: [reason, [properties]]
                rc = rl >= 1 ? p[b] & 0xFF : 0;
                if (rl >= 2) {
                    props = parse(p, b + 1);
                }
            }
            default -> {
                // PINGRESP and the like: nothing to decode
            }
        }
        return new Packet(type, rc, props, p);
    }

    /** Parses the property block (Property Length, then properties) starting at {@code start}. */
    static Props parse(byte[] p, int start) {
        int[] pos = {start};
        int len = vbi(p, pos);
        int end = pos[0] + len;
        List<Prop> out = new ArrayList<>();
        while (pos[0] < end) {
            int id = p[pos[0]++] & 0xFF;
            Object v = switch (id) {
                case 0x01, 0x17, 0x19, 0x24, 0x25, 0x28, 0x29, 0x2A -> p[pos[0]++] & 0xFF;
                case 0x13, 0x21, 0x22, 0x23 -> {
                    int x = (p[pos[0]] & 0xFF) << 8 | (p[pos[0] + 1] & 0xFF);
                    pos[0] += 2;
                    yield x;
                }
                case 0x02, 0x11, 0x18, 0x27 -> {
                    long x = 0;
                    for (int k = 0; k < 4; k++) {
                        x = x << 8 | (p[pos[0]++] & 0xFF);
                    }
                    yield x;
                }
                case 0x0B -> vbi(p, pos);
                case 0x03, 0x08, 0x12, 0x15, 0x1A, 0x1C, 0x1F -> new String(bin(p, pos), StandardCharsets.UTF_8);
                case 0x09, 0x16 -> bin(p, pos);
                case 0x26 -> new String[] {new String(bin(p, pos), StandardCharsets.UTF_8),
                        new String(bin(p, pos), StandardCharsets.UTF_8)};
                default -> throw new AssertionError("unknown property 0x" + Integer.toHexString(id) + " in "
                        + RawClient.hex(p));
            };
            out.add(new Prop(id, v));
        }
        return new Props(out);
    }

    private static byte[] bin(byte[] p, int[] pos) {
        int len = (p[pos[0]] & 0xFF) << 8 | (p[pos[0] + 1] & 0xFF);
        byte[] v = Arrays.copyOfRange(p, pos[0] + 2, pos[0] + 2 + len);
        pos[0] += 2 + len;
        return v;
    }

    private static int vbi(byte[] p, int[] pos) {
        int value = 0;
        int mul = 1;
        int b;
        do {
            b = p[pos[0]++] & 0xFF;
            value += (b & 0x7F) * mul;
            mul *= 128;
        } while ((b & 0x80) != 0);
        return value;
    }
}
