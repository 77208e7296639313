package io.starling.it.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.starling.broker.config.AdminConfig;
import io.starling.broker.config.BrokerConfig;
import io.starling.server.StarlingServer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttMessage;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttCallback;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.MqttDisconnectResponse;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The admin API over real sockets with a real broker and real MQTT clients (Paho v3 and v5): clients (list, filters,
 * paging, detail), disconnect (0x98 for 5.0, a closed connection for 3.x, the session discarded on request),
 * subscriptions, publish (read by a real subscriber), retained messages (list, read, delete), history, overview,
 * config, and every 400 naming its field.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class AdminApiTest {

    private final List<AutoCloseable> open = new ArrayList<>();
    private StarlingServer server;
    private AdminHttp api;

    @TempDir
    Path tmp;

    @BeforeEach
    void start() {
        server = StarlingServer.start(BrokerConfig.builder().bindAddress("127.0.0.1").port(0)
                .dataDir(tmp.resolve("data")).storage(BrokerConfig.Storage.MEMORY).admin(AdminConfig.loopback(0))
                .build());
        open.add(server);
        api = AdminHttp.loopback(server.adminPort());
    }

    @AfterEach
    void closeAll() {
        for (int i = open.size() - 1; i >= 0; i--) {
            try {
                open.get(i).close();
            } catch (Exception e) {
                // best effort
            }
        }
    }

    private String mqttUri() {
        return "tcp://127.0.0.1:" + server.port();
    }

    private MqttClient v3(String id, boolean clean) throws Exception {
        MqttClient c = new MqttClient(mqttUri(), id, new MemoryPersistence());
        MqttConnectOptions o = new MqttConnectOptions();
        o.setCleanSession(clean);
        o.setAutomaticReconnect(false);
        c.connect(o);
        open.add(() -> {
            if (c.isConnected()) {
                c.disconnect();
            }
            c.close();
        });
        return c;
    }

    /** A Paho 5.0 client whose server DISCONNECTs are captured. */
    private final class V5 implements MqttCallback, AutoCloseable {
        final org.eclipse.paho.mqttv5.client.MqttClient client;
        final BlockingQueue<Integer> disconnects = new LinkedBlockingQueue<>();
        final BlockingQueue<String> messages = new LinkedBlockingQueue<>();
        IMqttToken connectToken;

        V5(String id, boolean cleanStart, long expiry) throws MqttException {
            client = new org.eclipse.paho.mqttv5.client.MqttClient(mqttUri(), id,
                    new org.eclipse.paho.mqttv5.client.persist.MemoryPersistence());
            client.setCallback(this);
            MqttConnectionOptions o = new MqttConnectionOptions();
            o.setCleanStart(cleanStart);
            o.setSessionExpiryInterval(expiry);
            o.setAutomaticReconnect(false);
            connectToken = client.connectWithResult(o);
            open.add(this);
        }

        @Override
        public void disconnected(MqttDisconnectResponse r) {
            disconnects.add(r.getReturnCode());
        }

        @Override
        public void mqttErrorOccurred(MqttException e) {
        }

        @Override
        public void messageArrived(String topic, org.eclipse.paho.mqttv5.common.MqttMessage m) {
            messages.add(topic + "=" + new String(m.getPayload(), StandardCharsets.UTF_8));
        }

        @Override
        public void deliveryComplete(IMqttToken token) {
        }

        @Override
        public void connectComplete(boolean reconnect, String uri) {
        }

        @Override
        public void authPacketArrived(int reasonCode, MqttProperties properties) {
        }

        @Override
        public void close() throws MqttException {
            if (client.isConnected()) {
                client.disconnect();
            }
            client.close(true);
        }
    }

    private static List<String> texts(JsonNode items, String field) {
        List<String> out = new ArrayList<>();
        items.forEach(i -> out.add(i.get(field).asText()));
        return out;
    }

    private void assertBadRequest(AdminHttp.Answer a, String field) {
        assertThat(a.status()).as(a.body()).isEqualTo(400);
        assertThat(a.json().get("field").asText()).as(a.body()).isEqualTo(field);
        assertThat(a.json().get("error").asText()).isNotBlank();
    }

    @Test
    void clientsAreListedFilteredAndDetailed() throws Exception {
        V5 five = new V5("api-five", false, 60);
        five.client.subscribe("a/+", 1);
        MqttClient three = v3("api-three", true);
        three.subscribe("b/#", 0);

        JsonNode all = api.get("/api/v1/clients").json();
        assertThat(all.get("total").asInt()).isEqualTo(2);
        assertThat(all.get("offset").asInt()).isZero();
        assertThat(all.get("limit").asInt()).isEqualTo(50);
        assertThat(texts(all.get("items"), "clientId")).containsExactly("api-five", "api-three");
        JsonNode f = all.get("items").get(0);
        assertThat(f.get("connected").asBoolean()).isTrue();
        assertThat(f.get("protocol").asText()).isEqualTo("5.0");
        assertThat(f.get("listener").asText()).isEqualTo("tcp");
        assertThat(f.get("address").asText()).startsWith("127.0.0.1:");
        assertThat(f.get("connectedAt").asText()).matches("\\d{4}-\\d\\d-\\d\\dT.*Z");
        assertThat(f.get("sessionExpiryInterval").asLong()).isEqualTo(60);
        assertThat(f.get("cleanStart").asBoolean()).isFalse();
        assertThat(f.get("subscriptions").asInt()).isEqualTo(1);
        assertThat(f.get("inflight").asInt()).isZero();
        assertThat(f.get("queuedMessages").asInt()).isZero();
        assertThat(f.get("user").isNull()).isTrue();
        assertThat(all.get("items").get(1).get("protocol").asText()).isEqualTo("3.1.1");

        assertThat(texts(api.get("/api/v1/clients?protocol=5.0").json().get("items"), "clientId"))
                .containsExactly("api-five");
        assertThat(texts(api.get("/api/v1/clients?clientId=api-t").json().get("items"), "clientId"))
                .containsExactly("api-three");
        assertThat(api.get("/api/v1/clients?connected=false").json().get("total").asInt()).isZero();
        assertThat(api.get("/api/v1/clients?listener=tls").json().get("total").asInt()).isZero();
        assertThat(api.get("/api/v1/clients?address=127.0.0.1").json().get("total").asInt()).isEqualTo(2);

        JsonNode d = api.get("/api/v1/clients/api-five").json();
        assertThat(d.get("subscriptionCount").asInt()).isEqualTo(1);
        JsonNode sub = d.get("subscriptions").get(0);
        assertThat(sub.get("filter").asText()).isEqualTo("a/+");
        assertThat(sub.get("qos").asInt()).isEqualTo(1);
        assertThat(sub.get("noLocal").asBoolean()).isFalse();
        assertThat(sub.get("retainHandling").asInt()).isZero();
        assertThat(api.get("/api/v1/clients/nobody").status()).isEqualTo(404);

        assertBadRequest(api.get("/api/v1/clients?limit=0"), "limit");
        assertBadRequest(api.get("/api/v1/clients?limit=1001"), "limit");
        assertBadRequest(api.get("/api/v1/clients?offset=-1"), "offset");
        assertBadRequest(api.get("/api/v1/clients?offset=x"), "offset");
        assertBadRequest(api.get("/api/v1/clients?protocol=4"), "protocol");
        assertBadRequest(api.get("/api/v1/clients?listener=udp"), "listener");
        assertBadRequest(api.get("/api/v1/clients?connected=maybe"), "connected");
    }

    @Test
    void clientIdsAreUrlEncodedInThePath() throws Exception {
        v3("api/with space", true);
        JsonNode d = api.get("/api/v1/clients/api%2Fwith%20space").json();
        assertThat(d.get("clientId").asText()).isEqualTo("api/with space");
    }

    @Test
    void clientsArePaged() throws Exception {
        for (int i = 4; i >= 0; i--) {
            v3("page-" + i, true);
        }
        JsonNode p = api.get("/api/v1/clients?offset=2&limit=2").json();
        assertThat(p.get("total").asInt()).isEqualTo(5);
        assertThat(p.get("offset").asInt()).isEqualTo(2);
        assertThat(p.get("limit").asInt()).isEqualTo(2);
        assertThat(texts(p.get("items"), "clientId")).containsExactly("page-2", "page-3");
        assertThat(texts(api.get("/api/v1/clients?offset=4&limit=2").json().get("items"), "clientId"))
                .containsExactly("page-4");
        assertThat(api.get("/api/v1/clients?offset=9").json().get("items")).isEmpty();
    }

    @Test
    void disconnectSends0x98ToA50ClientAndKeepsItsSession() throws Exception {
        V5 five = new V5("api-d5", false, 300);
        AdminHttp.Answer a = api.post("/api/v1/clients/api-d5/disconnect", null);
        assertThat(a.status()).as(a.body()).isEqualTo(200);
        assertThat(a.json().get("clientId").asText()).isEqualTo("api-d5");
        assertThat(a.json().get("disconnected").asBoolean()).isTrue();
        assertThat(a.json().get("sessionDiscarded").asBoolean()).isFalse();
        assertThat(five.disconnects.poll(20, TimeUnit.SECONDS)).isEqualTo(0x98);
        await().atMost(Duration.ofSeconds(20)).until(() ->
                !api.get("/api/v1/clients/api-d5").json().get("connected").asBoolean());
        JsonNode d = api.get("/api/v1/clients/api-d5").json();
        assertThat(d.get("address").isNull()).isTrue();
        AdminHttp.Answer again = api.post("/api/v1/clients/api-d5/disconnect", "{}");
        assertThat(again.json().get("disconnected").asBoolean()).as("offline already").isFalse();
        assertThat(api.post("/api/v1/clients/nobody/disconnect", null).status()).isEqualTo(404);
    }

    @Test
    void disconnectClosesA3xClient() throws Exception {
        MqttClient three = v3("api-d3", true);
        BlockingQueue<Throwable> lost = new LinkedBlockingQueue<>();
        three.setCallback(new org.eclipse.paho.client.mqttv3.MqttCallback() {
            @Override
            public void connectionLost(Throwable cause) {
                lost.add(cause);
            }

            @Override
            public void messageArrived(String topic, MqttMessage message) {
            }

            @Override
            public void deliveryComplete(org.eclipse.paho.client.mqttv3.IMqttDeliveryToken token) {
            }
        });
        AdminHttp.Answer a = api.post("/api/v1/clients/api-d3/disconnect", "{\"discardSession\": false}");
        assertThat(a.status()).as(a.body()).isEqualTo(200);
        assertThat(lost.poll(20, TimeUnit.SECONDS)).isNotNull();
        assertThat(three.isConnected()).isFalse();
    }

    @Test
    void discardSessionRemovesAPersistentSession() throws Exception {
        V5 five = new V5("api-ds", false, 3600);
        five.client.subscribe("ds/#", 1);
        AdminHttp.Answer a = api.post("/api/v1/clients/api-ds/disconnect", "{\"discardSession\": true}");
        assertThat(a.status()).as(a.body()).isEqualTo(200);
        assertThat(a.json().get("sessionDiscarded").asBoolean()).isTrue();
        assertThat(five.disconnects.poll(20, TimeUnit.SECONDS)).isEqualTo(0x98);
        assertThat(api.get("/api/v1/clients/api-ds").status()).isEqualTo(404);
        assertThat(api.get("/api/v1/subscriptions?clientId=api-ds").json().get("total").asInt()).isZero();
        five.close();
        V5 back = new V5("api-ds", false, 3600);
        assertThat(back.connectToken.getSessionPresent()).as("session present 0").isFalse();

        // an offline session is discarded too
        back.client.subscribe("ds/#", 1);
        back.client.disconnect();
        await().atMost(Duration.ofSeconds(20)).until(() ->
                !api.get("/api/v1/clients/api-ds").json().get("connected").asBoolean());
        a = api.post("/api/v1/clients/api-ds/disconnect", "{\"discardSession\": true}");
        assertThat(a.json().get("disconnected").asBoolean()).isFalse();
        assertThat(a.json().get("sessionDiscarded").asBoolean()).isTrue();
        assertThat(api.get("/api/v1/clients/api-ds").status()).isEqualTo(404);

        assertBadRequest(api.post("/api/v1/clients/api-x/disconnect", "{\"discardSession\": \"yes\"}"),
                "discardSession");
        assertBadRequest(api.post("/api/v1/clients/api-x/disconnect", "{\"discard\": true}"), "discard");
        assertBadRequest(api.post("/api/v1/clients/api-x/disconnect", "{nope"), "body");
    }

    @Test
    void subscriptionsAreListed() throws Exception {
        V5 five = new V5("api-s5", true, 0);
        five.client.subscribe("sub/a", 1);
        five.client.subscribe("$share/g/sub/b", 0);
        MqttClient three = v3("api-s3", true);
        three.subscribe("sub/c/#", 2);
        three.subscribe("other", 0);

        JsonNode all = api.get("/api/v1/subscriptions").json();
        assertThat(all.get("total").asInt()).isEqualTo(4);
        JsonNode sub = api.get("/api/v1/subscriptions?filter=sub/*").json();
        assertThat(sub.get("total").asInt()).isEqualTo(2);
        assertThat(texts(sub.get("items"), "filter")).as("by client id, then filter").containsExactly("sub/c/#", "sub/a");
        JsonNode shared = api.get("/api/v1/subscriptions?filter=%24share/g/sub/b").json();
        assertThat(shared.get("items").get(0).get("shareName").asText()).isEqualTo("g");
        assertThat(shared.get("items").get(0).get("clientId").asText()).isEqualTo("api-s5");
        JsonNode mine = api.get("/api/v1/subscriptions?clientId=api-s3").json();
        assertThat(texts(mine.get("items"), "filter")).containsExactly("other", "sub/c/#");
        assertThat(mine.get("items").get(1).get("qos").asInt()).isEqualTo(2);
        assertThat(mine.get("items").get(1).get("shareName").isNull()).isTrue();
    }

    @Test
    void publishIsReadByARealSubscriber() throws Exception {
        V5 sub = new V5("api-sub", true, 0);
        sub.client.subscribe("pub/#", 1);
        AdminHttp.Answer a = api.post("/api/v1/publish", "{\"topic\":\"pub/a\",\"payload\":\"hello\",\"qos\":1}");
        assertThat(a.status()).as(a.body()).isEqualTo(200);
        assertThat(a.json().get("topic").asText()).isEqualTo("pub/a");
        assertThat(a.json().get("qos").asInt()).isEqualTo(1);
        assertThat(a.json().get("retain").asBoolean()).isFalse();
        assertThat(a.json().get("payloadBytes").asInt()).isEqualTo(5);
        assertThat(sub.messages.poll(20, TimeUnit.SECONDS)).isEqualTo("pub/a=hello");

        a = api.post("/api/v1/publish", "{\"topic\":\"pub/b\",\"payload\":\"d29ybGQ=\",\"payloadEncoding\":\"base64\","
                + "\"properties\":{\"contentType\":\"text/plain\",\"messageExpiryInterval\":60,"
                + "\"userProperties\":[{\"key\":\"k\",\"value\":\"v\"}],\"payloadFormatIndicator\":true}}");
        assertThat(a.status()).as(a.body()).isEqualTo(200);
        assertThat(sub.messages.poll(20, TimeUnit.SECONDS)).isEqualTo("pub/b=world");

        assertBadRequest(api.post("/api/v1/publish", "{\"payload\":\"x\"}"), "topic");
        assertBadRequest(api.post("/api/v1/publish", "{\"topic\":\"a/#\"}"), "topic");
        assertBadRequest(api.post("/api/v1/publish", "{\"topic\":\"a/+/b\"}"), "topic");
        assertBadRequest(api.post("/api/v1/publish", "{\"topic\":\"$SYS/x\"}"), "topic");
        assertBadRequest(api.post("/api/v1/publish", "{\"topic\":7}"), "topic");
        assertBadRequest(api.post("/api/v1/publish", "{\"topic\":\"a\",\"qos\":3}"), "qos");
        assertBadRequest(api.post("/api/v1/publish", "{\"topic\":\"a\",\"qos\":\"1\"}"), "qos");
        assertBadRequest(api.post("/api/v1/publish", "{\"topic\":\"a\",\"retain\":1}"), "retain");
        assertBadRequest(api.post("/api/v1/publish", "{\"topic\":\"a\",\"payload\":5}"), "payload");
        assertBadRequest(api.post("/api/v1/publish", "{\"topic\":\"a\",\"payloadEncoding\":\"hex\"}"),
                "payloadEncoding");
        assertBadRequest(api.post("/api/v1/publish",
                "{\"topic\":\"a\",\"payload\":\"***\",\"payloadEncoding\":\"base64\"}"), "payload");
        assertBadRequest(api.post("/api/v1/publish", "{\"topic\":\"a\",\"properties\":{\"messageExpiryInterval\":-1}}"),
                "properties.messageExpiryInterval");
        assertBadRequest(api.post("/api/v1/publish", "{\"topic\":\"a\",\"properties\":{\"correlationData\":\"*\"}}"),
                "properties.correlationData");
        assertBadRequest(api.post("/api/v1/publish", "{\"topic\":\"a\",\"properties\":{\"userProperties\":[1]}}"),
                "properties.userProperties");
        assertBadRequest(api.post("/api/v1/publish", "{\"topic\":\"a\",\"properties\":{\"x\":1}}"), "properties.x");
        assertBadRequest(api.post("/api/v1/publish", "{\"topic\":\"a\",\"qs\":1}"), "qs");
        assertBadRequest(api.post("/api/v1/publish", "[1]"), "body");
        assertBadRequest(api.post("/api/v1/publish", "{"), "body");
        assertThat(sub.messages).as("nothing refused was published").isEmpty();
    }

    @Test
    void retainedMessagesAreListedReadAndDeleted() throws Exception {
        MqttClient pub = v3("api-rpub", true);
        pub.publish("r/1", "one".getBytes(StandardCharsets.UTF_8), 1, true);
        pub.publish("r/2", new byte[] {(byte) 0xff, 0x00}, 0, true);
        pub.publish("r/3/x", "three".getBytes(StandardCharsets.UTF_8), 1, true);
        AdminHttp.Answer viaApi = api.post("/api/v1/publish", "{\"topic\":\"r/0\",\"payload\":\"zero\",\"retain\":true}");
        assertThat(viaApi.status()).as(viaApi.body()).isEqualTo(200);

        await().atMost(Duration.ofSeconds(20)).until(() ->
                api.get("/api/v1/retained").json().get("total").asInt() == 4);
        JsonNode all = api.get("/api/v1/retained").json();
        assertThat(texts(all.get("items"), "topic")).containsExactly("r/0", "r/1", "r/2", "r/3/x");
        assertThat(all.get("items").get(1).get("qos").asInt()).isEqualTo(1);
        assertThat(all.get("items").get(1).get("payloadBytes").asInt()).isEqualTo(3);
        JsonNode plus = api.get("/api/v1/retained?filter=r/%2B").json();
        assertThat(texts(plus.get("items"), "topic")).containsExactly("r/0", "r/1", "r/2");
        JsonNode paged = api.get("/api/v1/retained?offset=1&limit=2").json();
        assertThat(texts(paged.get("items"), "topic")).containsExactly("r/1", "r/2");
        assertThat(paged.get("total").asInt()).isEqualTo(4);

        JsonNode one = api.get("/api/v1/retained/message?topic=r/1").json();
        assertThat(one.get("payload").asText()).isEqualTo("one");
        assertThat(one.get("payloadBase64").asText()).isEqualTo("b25l");
        assertThat(one.get("qos").asInt()).isEqualTo(1);
        assertThat(one.get("properties").get("userProperties")).isEmpty();
        JsonNode binary = api.get("/api/v1/retained/message?topic=r/2").json();
        assertThat(binary.get("payload").isNull()).as("not UTF-8").isTrue();
        assertThat(binary.get("payloadBase64").asText()).isEqualTo("/wA=");

        assertThat(api.delete("/api/v1/retained/message?topic=r/1").status()).isEqualTo(204);
        assertThat(api.get("/api/v1/retained/message?topic=r/1").status()).isEqualTo(404);
        assertThat(api.delete("/api/v1/retained/message?topic=r/1").status()).isEqualTo(404);
        assertThat(texts(api.get("/api/v1/retained").json().get("items"), "topic"))
                .containsExactly("r/0", "r/2", "r/3/x");
        V5 late = new V5("api-late", true, 0);
        late.client.subscribe("r/1", 1);
        late.client.subscribe("r/0", 1);
        assertThat(late.messages.poll(20, TimeUnit.SECONDS)).as("r/1 is gone, r/0 is there").isEqualTo("r/0=zero");
        assertThat(late.messages).isEmpty();

        assertBadRequest(api.get("/api/v1/retained?filter=a/%23/b"), "filter");
        assertBadRequest(api.get("/api/v1/retained/message"), "topic");
        assertBadRequest(api.get("/api/v1/retained/message?topic=a/%2B"), "topic");
        assertBadRequest(api.delete("/api/v1/retained/message?topic=a/%23"), "topic");
    }

    @Test
    void queuedMessagesOfAnOfflineSessionAreCounted() throws Exception {
        V5 away = new V5("api-away", false, 300);
        away.client.subscribe("away/#", 1);
        away.close();
        await().atMost(Duration.ofSeconds(20)).until(() ->
                !api.get("/api/v1/clients/api-away").json().get("connected").asBoolean());
        MqttClient pub = v3("api-away-pub", true);
        for (int i = 0; i < 3; i++) {
            pub.publish("away/" + i, "x".getBytes(StandardCharsets.UTF_8), 1, false);
        }
        await().atMost(Duration.ofSeconds(20)).until(() ->
                api.get("/api/v1/clients/api-away").json().get("queuedMessages").asInt() == 3);
        JsonNode c = api.get("/api/v1/clients/api-away").json();
        assertThat(c.get("queuedBytes").asLong()).isPositive();
        assertThat(c.get("connected").asBoolean()).isFalse();
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            JsonNode samples = api.get("/api/v1/history").json().get("samples");
            return samples.size() > 0 && samples.get(samples.size() - 1).get("queuedMessages").asInt() == 3;
        });
    }

    @Test
    void overviewHistoryAndConfig() throws Exception {
        v3("api-ov", true);
        JsonNode o = api.get("/api/v1/overview").json();
        assertThat(o.get("version").asText()).isNotBlank();
        assertThat(o.get("counts").get("connections").asInt()).isEqualTo(1);
        assertThat(o.get("counts").get("sessions").asInt()).isEqualTo(1);
        assertThat(o.get("counts").get("sessionsOnline").asInt()).isEqualTo(1);
        assertThat(o.get("counts").has("subscriptions")).isTrue();
        assertThat(o.get("counts").has("retainedMessages")).isTrue();
        assertThat(o.get("rates").has("messagesReceivedPerSecond")).isTrue();
        assertThat(o.get("rates").has("messagesSentPerSecond")).isTrue();
        assertThat(o.has("cluster")).as("a single node's overview has no cluster object").isFalse();

        JsonNode h = api.get("/api/v1/history").json();
        assertThat(h.get("intervalSeconds").asInt()).isEqualTo(5);
        await().atMost(Duration.ofSeconds(30)).until(() ->
                api.get("/api/v1/history").json().get("samples").size() > 0);
        JsonNode s = api.get("/api/v1/history").json().get("samples").get(0);
        assertThat(s.get("t").asLong()).isPositive();
        assertThat(s.get("connections").asInt()).isEqualTo(1);
        assertThat(s.get("queuedMessages").asInt()).isZero();
        assertThat(s.has("receivedPerSecond") && s.has("sentPerSecond") && s.has("droppedPerSecond")).isTrue();

        JsonNode c = api.get("/api/v1/config").json();
        assertThat(c.get("admin").get("enabled").asBoolean()).isTrue();
        assertThat(c.get("storage").asText()).isEqualTo("memory");
    }
}
