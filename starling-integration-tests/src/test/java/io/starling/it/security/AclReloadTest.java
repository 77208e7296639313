package io.starling.it.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.starling.broker.acl.Acl;
import io.starling.it.Msg;
import io.starling.it.security.SecClient.Kind;
import io.starling.it.spec.Wire;
import io.starling.server.StarlingServer;
import io.starling.testkit.RawClient;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The ACL file changing under a running broker (checked every 2 s): new rules apply to connected clients at once,
 * including decisions they had cached and subscriptions they hold; a broken file keeps the previous rules. Also the
 * 3.1.1 QoS 0 and QoS 2 flows of a refused PUBLISH, byte by byte.
 */
class AclReloadTest {

    @TempDir
    Path tmp;

    private StarlingServer server;
    private Path acl;

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    private int start(String... rules) {
        Path passwd = Sec.passwordFile(tmp.resolve("passwd"), "alice", "wonderland", "observer", "watching");
        acl = Sec.write(tmp.resolve("acl"), rules);
        server = Sec.start(tmp, b -> b.passwordFile(passwd).aclFile(acl));
        return server.port();
    }

    private Acl acl() {
        return server.broker().acl();
    }

    private static final String[] BASE = {
        "allow user:observer readwrite #",
        "allow all readwrite marker/#",
    };

    private static String[] with(String... rules) {
        String[] all = new String[BASE.length + rules.length];
        System.arraycopy(rules, 0, all, 0, rules.length);
        System.arraycopy(BASE, 0, all, rules.length, BASE.length);
        return all;
    }

    @Test
    void changedRulesApplyToConnectedClientsAtOnce() throws Exception {
        int port = start(with("allow user:alice readwrite r/one/#"));
        try (SecClient alice = SecClient.connect(Kind.PAHO_V5, port, "alice-r", "alice", "wonderland");
                SecClient observer = SecClient.connect(Kind.PAHO_V311, port, "observer-r", "observer", "watching")) {
            assertThat(alice.subscribe("r/#")).as("r/one is readable").isEqualTo(1);
            assertThat(alice.subscribe("marker/alice")).isEqualTo(1);
            assertThat(observer.subscribe("r/#")).isEqualTo(1);
            assertThat(alice.publish("r/one/x", "1")).isZero();      // cached: r/one/x writable
            assertThat(alice.publish("r/two/x", "1")).isEqualTo(0x87);
            observer.publish("r/one/x", "before");
            observer.publish("r/two/x", "before");
            observer.publish("marker/alice", "end");
            assertThat(alice.until("marker/alice")).extracting(Msg::topic).containsOnly("r/one/x");

            Sec.write(acl, with("allow user:alice readwrite r/two/#"));
            await().atMost(Duration.ofSeconds(15)).until(() -> acl().file().version() == 2);

            assertThat(alice.publish("r/one/x", "2")).as("the cached allow is gone").isEqualTo(0x87);
            assertThat(alice.publish("r/two/x", "2")).isZero();
            observer.publish("r/one/x", "after");
            observer.publish("r/two/x", "after");
            observer.publish("marker/alice", "end");
            // the subscription to r/# stays; what it delivers follows the new rules
            assertThat(alice.until("marker/alice")).extracting(m -> m.topic() + " " + m.text())
                    .containsExactly("r/two/x 2", "r/two/x after");
        }
    }

    @Test
    void aBrokenFileKeepsThePreviousRules() throws Exception {
        int port = start(with("allow user:alice readwrite r/one/#"));
        try (SecClient alice = SecClient.connect(Kind.PAHO_V5, port, "alice-b", "alice", "wonderland")) {
            Sec.write(acl, "allow user:alice readwrite r/#", "allow everyone read #");
            await().atMost(Duration.ofSeconds(15)).until(() -> acl().file().failures() == 1);
            assertThat(acl().file().lastError()).contains("line 2").contains("unknown subject");
            assertThat(acl().file().version()).isEqualTo(1);
            assertThat(alice.publish("r/one/x", "m")).as("old rule").isIn(0x00, 0x10);
            assertThat(alice.publish("r/two/x", "m")).as("the broken file's rule is not used").isEqualTo(0x87);
        }
        try (SecClient late = SecClient.connect(Kind.PAHO_V311, port, "alice-late", "alice", "wonderland")) {
            assertThat(late.subscribe("r/two/x")).as("new clients get the old rules as well").isEqualTo(0x80);
        }
    }

    @Test
    void aMissingAclFileStopsTheStart() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Sec.start(tmp, b -> b.aclFile(tmp.resolve("nope"))))
                .hasMessageContaining("ACL file").hasMessageContaining("no such file");
        Path bad = Sec.write(tmp.resolve("bad-acl"), "allow all read");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Sec.start(tmp, b -> b.aclFile(bad)))
                .hasMessageContaining("line 1");
    }

    // [MQTT-3.3.5-2] on 3.1.1 a refused PUBLISH is acknowledged as if delivered: QoS 2 goes through PUBREC, PUBREL,
    // PUBCOMP; QoS 0 is dropped silently. Nothing reaches a subscriber and the connection stays up.
    @Test
    void refusedPublishFlowsOn311ByteByByte_MQTT_3_3_5_2() {
        int port = start(with("allow user:alice write ok/#"));
        try (RawClient sub = RawClient.connect("127.0.0.1", port);
                RawClient alice = RawClient.connect("127.0.0.1", port)) {
            assertThat(Sec.connack(sub, 4, "observer-raw", "observer", "watching")).isZero();
            sub.send(Wire.subscribe311(1, "#", 2));
            sub.expectPacket(0x90, 0x03, 0x00, 0x01, 0x02);
            assertThat(Sec.connack(alice, 4, "alice-raw", "alice", "wonderland")).isZero();
            alice.send(Wire.publish311(Wire.QOS2, "no/q2", 7, "x"));
            alice.expectPacket(0x50, 0x02, 0x00, 0x07);                  // PUBREC as if accepted
            alice.send(0x62, 0x02, 0x00, 0x07);                          // PUBREL
            alice.expectPacket(0x70, 0x02, 0x00, 0x07);                  // PUBCOMP
            alice.send(Wire.publish311(0, "no/q0", 0, "x"));             // QoS 0: dropped, nothing to answer
            alice.send(Wire.publish311(Wire.QOS1, "ok/q1", 8, "fine"));
            alice.expectPacket(0x40, 0x02, 0x00, 0x08);
            byte[] p = sub.readPacket(Duration.ofSeconds(5));
            assertThat(p).as("the first message the subscriber gets is the allowed one").isNotNull();
            assertThat(new String(p, java.nio.charset.StandardCharsets.UTF_8)).contains("ok/q1").doesNotContain("no/");
            alice.send(0xC0, 0x00).expectPacket(0xD0, 0x00);            // still connected
        }
    }

    // 5.0: QoS 2 refused with PUBREC 0x87, after which the packet id is free; QoS 0 dropped.
    @Test
    void refusedPublishFlowsOn5() {
        int port = start(with("allow user:alice write ok/#"));
        try (RawClient alice = RawClient.connect("127.0.0.1", port)) {
            assertThat(Sec.connack(alice, 5, "alice-raw5", "alice", "wonderland")).isZero();
            alice.send(Wire.publish5(Wire.QOS2, "no/q2", 7, Wire.props(), "x"));
            byte[] rec = alice.readPacket(Duration.ofSeconds(5));
            assertThat(rec[0] & 0xFF).isEqualTo(0x50);
            assertThat(rec[4] & 0xFF).as("PUBREC reason code").isEqualTo(0x87);
            alice.send(Wire.publish5(Wire.QOS1, "no/q1", 8, Wire.props(), "x"));
            byte[] ack = alice.readPacket(Duration.ofSeconds(5));
            assertThat(ack[0] & 0xFF).isEqualTo(0x40);
            assertThat(ack[4] & 0xFF).as("PUBACK reason code").isEqualTo(0x87);
            alice.send(Wire.publish5(Wire.QOS2, "ok/q2", 7, Wire.props(), "fine")); // the id 7 is free again
            byte[] ok = alice.readPacket(Duration.ofSeconds(5));
            assertThat(ok[0] & 0xFF).isEqualTo(0x50);
            assertThat(ok.length == 4 || (ok[4] & 0xFF) < 0x80).as("accepted").isTrue();
        }
    }
}
