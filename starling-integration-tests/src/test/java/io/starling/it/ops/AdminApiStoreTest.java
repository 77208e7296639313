package io.starling.it.ops;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.starling.broker.config.AdminConfig;
import io.starling.broker.config.BrokerConfig;
import io.starling.server.StarlingServer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The admin API on the RocksDB store: queued messages of an offline persistent session are counted, a discarded
 * session is gone from the store too (not back after a restart), and retained payloads kept on disk are read back.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class AdminApiStoreTest {

    private final List<AutoCloseable> open = new ArrayList<>();

    @TempDir
    Path tmp;

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

    private StarlingServer start() {
        StarlingServer s = StarlingServer.start(BrokerConfig.builder().bindAddress("127.0.0.1").port(0)
                .dataDir(tmp.resolve("data")).storage(BrokerConfig.Storage.ROCKSDB).admin(AdminConfig.loopback(0))
                .build());
        open.add(s);
        return s;
    }

    private MqttClient v3(StarlingServer s, String id, boolean clean) throws Exception {
        MqttClient c = new MqttClient("tcp://127.0.0.1:" + s.port(), id, new MemoryPersistence());
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

    @Test
    void aDiscardedSessionLeavesTheStore() throws Exception {
        StarlingServer s = start();
        AdminHttp api = AdminHttp.loopback(s.adminPort());
        MqttClient keep = v3(s, "store-keep", false);
        keep.subscribe("q/#", 1);
        keep.disconnect();
        MqttClient gone = v3(s, "store-gone", false);
        gone.subscribe("q/#", 1);
        gone.disconnect();
        MqttClient pub = v3(s, "store-pub", true);
        for (int i = 0; i < 3; i++) {
            pub.publish("q/" + i, ("m" + i).getBytes(StandardCharsets.UTF_8), 1, false);
        }
        assertThat(api.get("/api/v1/clients/store-gone").json().get("storesMessages").asBoolean()).isTrue();
        JsonNode before = api.get("/api/v1/clients?connected=false").json();
        assertThat(texts(before.get("items"))).containsExactly("store-gone", "store-keep");

        AdminHttp.Answer a = api.post("/api/v1/clients/store-gone/disconnect", "{\"discardSession\":true}");
        assertThat(a.status()).as(a.body()).isEqualTo(200);
        assertThat(a.json().get("sessionDiscarded").asBoolean()).isTrue();
        assertThat(api.get("/api/v1/clients/store-gone").status()).isEqualTo(404);
        s.close();

        StarlingServer again = start();
        AdminHttp api2 = AdminHttp.loopback(again.adminPort());
        JsonNode after = api2.get("/api/v1/clients").json();
        assertThat(texts(after.get("items"))).as("the discarded session is not restored").containsExactly("store-keep");
        JsonNode kept = api2.get("/api/v1/clients/store-keep").json();
        assertThat(kept.get("subscriptions").get(0).get("filter").asText()).isEqualTo("q/#");
        assertThat(kept.get("protocol").isNull()).as("restored: no connection described it yet").isTrue();
        assertThat(api2.get("/api/v1/subscriptions?clientId=store-gone").json().get("total").asInt()).isZero();
    }

    @Test
    void retainedPayloadsOnDiskAreReadBack() throws Exception {
        StarlingServer s = start();
        MqttClient pub = v3(s, "store-rpub", true);
        pub.publish("disk/a", "alpha".getBytes(StandardCharsets.UTF_8), 1, true);
        pub.publish("disk/b", "beta".getBytes(StandardCharsets.UTF_8), 0, true);
        pub.disconnect();
        s.close();

        StarlingServer again = start();
        AdminHttp api = AdminHttp.loopback(again.adminPort());
        JsonNode list = api.get("/api/v1/retained?filter=disk/%23").json();
        assertThat(texts(list.get("items"), "topic")).containsExactly("disk/a", "disk/b");
        assertThat(list.get("items").get(0).get("qos").asInt()).isEqualTo(1);
        assertThat(list.get("items").get(1).get("payloadBytes").asInt()).isEqualTo(4);
        assertThat(api.get("/api/v1/retained/message?topic=disk/a").json().get("payload").asText()).isEqualTo("alpha");
        assertThat(api.delete("/api/v1/retained/message?topic=disk/a").status()).isEqualTo(204);
        again.close();

        StarlingServer third = start();
        AdminHttp api3 = AdminHttp.loopback(third.adminPort());
        assertThat(texts(api3.get("/api/v1/retained").json().get("items"), "topic"))
                .as("the removal was stored").containsExactly("disk/b");
    }

    private static List<String> texts(JsonNode items) {
        return texts(items, "clientId");
    }

    private static List<String> texts(JsonNode items, String field) {
        List<String> out = new ArrayList<>();
        items.forEach(i -> out.add(i.get(field).asText()));
        return out;
    }
}
