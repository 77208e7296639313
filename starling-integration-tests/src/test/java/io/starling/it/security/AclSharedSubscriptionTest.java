package io.starling.it.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.hivemq.client.mqtt.MqttGlobalPublishFilter;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt5.Mqtt5AsyncClient;
import com.hivemq.client.mqtt.mqtt5.Mqtt5Client;
import io.starling.it.Msg;
import io.starling.it.security.SecClient.Kind;
import io.starling.it.spec.Conn;
import io.starling.it.spec.Wire;
import io.starling.server.StarlingServer;
import io.starling.testkit.RawClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Shared subscriptions under the ACL (5.0 4.8.2: each message of a group goes to ONE member). With
 * {@code allow user:worker read jobs/#} and {@code allow all readwrite jobs/%u/#}, bob may subscribe to
 * {@code $share/w/jobs/#} (he may read {@code jobs/bob/...}) and so joins the worker's group: a message on
 * {@code jobs/alice/task} must go to a member that may read it, never to bob (who would have it withheld at
 * delivery, and the message would be acknowledged to the publisher and lost), whether members are online, offline
 * with a persistent session, or take over from a member whose connection was lost. A group none of whose members may
 * read a message has no subscriber for it (5.0 PUBACK 0x10). {@code $share/} rules say who may join which group.
 */
class AclSharedSubscriptionTest {

    private static final String PW = "pw";
    private static final AtomicInteger IDS = new AtomicInteger();

    @TempDir
    Path tmp;

    private StarlingServer server;
    private final List<AutoCloseable> open = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : open) {
            c.close();
        }
        if (server != null) {
            server.close();
        }
    }

    private int start(String... aclLines) {
        Path passwd = Sec.passwordFile(tmp.resolve("passwd"), "worker", PW, "bob", PW, "alice", PW);
        Path acl = Sec.write(tmp.resolve("acl"), aclLines);
        server = Sec.start(tmp, b -> b.passwordFile(passwd).aclFile(acl));
        return server.port();
    }

    /** The file of the scenario: the worker reads every job, everybody reads and writes their own. */
    private int startWithoutShareRules() {
        return start(
                "allow user:worker read      jobs/#",
                "allow all         readwrite jobs/%u/#",
                "allow user:alice  write     jobs/#",
                "allow all         readwrite marker/#");
    }

    private <T extends AutoCloseable> T open(T c) {
        open.add(c);
        return c;
    }

    private SecClient client(Kind kind, String user) throws Exception {
        return open(SecClient.connect(kind, server.port(), user + "-" + IDS.incrementAndGet(), user, PW));
    }

    private static List<String> topics(List<Msg> messages) {
        return messages.stream().map(Msg::topic).toList();
    }

    // The scenario: worker and bob in group w, 10 messages on jobs/alice/task: the worker gets all 10, bob none (before,
    // round robin gave bob 5, which the ACL withheld and dropped). Messages bob may read (jobs/bob/x) still go to him
    // as a member. Members of both versions, 3.1.1 and 5.0.
    @ParameterizedTest(name = "members {0}")
    @EnumSource(Kind.class)
    void eachMessageGoesToAMemberThatMayReadIt(Kind kind) throws Exception {
        startWithoutShareRules();
        SecClient worker = client(kind, "worker");
        SecClient bob = client(kind, "bob");
        SecClient alice = client(Kind.HIVEMQ_V5, "alice");
        assertThat(worker.subscribe("$share/w/jobs/#")).isEqualTo(1);
        assertThat(bob.subscribe("$share/w/jobs/#")).as("bob may read jobs/bob/...: he may join").isEqualTo(1);
        assertThat(worker.subscribe("marker/#")).isEqualTo(1);
        assertThat(bob.subscribe("marker/#")).isEqualTo(1);

        for (int i = 0; i < 10; i++) {
            assertThat(alice.publish("jobs/alice/task", "job " + i)).isZero();
        }
        assertThat(alice.publish("marker/1", "end")).isZero();
        assertThat(worker.until("marker/1")).extracting(Msg::text)
                .containsExactly("job 0", "job 1", "job 2", "job 3", "job 4", "job 5", "job 6", "job 7", "job 8", "job 9");
        assertThat(bob.until("marker/1")).as("bob gets none of alice's jobs").isEmpty();

        for (int i = 0; i < 10; i++) {
            assertThat(alice.publish("jobs/bob/x", "for bob " + i)).isZero();
        }
        assertThat(alice.publish("marker/2", "end")).isZero();
        List<Msg> toWorker = worker.until("marker/2");
        List<Msg> toBob = bob.until("marker/2");
        assertThat(toWorker.size() + toBob.size()).as("each once").isEqualTo(10);
        assertThat(toBob).as("bob is still a member for what he may read").isNotEmpty();
    }

    // With bob the only member, a message on jobs/alice/task has no subscriber that may take it: 5.0 PUBACK 0x10 No
    // matching subscribers, as if the group did not match; one on jobs/bob/x is bob's.
    @Test
    void aGroupWithoutAMemberThatMayReadIsNoMatchingSubscriber() throws Exception {
        startWithoutShareRules();
        SecClient bob = client(Kind.PAHO_V5, "bob");
        SecClient alice = client(Kind.HIVEMQ_V5, "alice");
        assertThat(bob.subscribe("$share/w/jobs/#")).isEqualTo(1);
        assertThat(alice.publish("jobs/alice/task", "job")).as("PUBACK reason code").isEqualTo(0x10);
        assertThat(alice.publish("jobs/bob/x", "for bob")).isZero();
        assertThat(bob.until("jobs/bob/x")).isEmpty();
    }

    // $share/ rules: once the file has one, joining a group needs a rule that allows it. Only the worker may join w
    // (SUBACK 0x80 on 3.1.1 [MQTT-3.9.3-2], 0x87 on 5.0); everybody may have a group of their own over their own
    // jobs; ordinary subscriptions are not affected.
    @ParameterizedTest(name = "{0}")
    @EnumSource(Kind.class)
    void shareRulesSayWhoMayJoinWhichGroup_MQTT_3_9_3_2(Kind kind) throws Exception {
        start("allow user:worker read $share/w/jobs/#",
                "allow all         read $share/%u/jobs/%u/#",
                "allow user:worker read      jobs/#",
                "allow all         readwrite jobs/%u/#",
                "allow user:alice  write     jobs/#");
        int refused = kind.level == 5 ? 0x87 : 0x80;
        SecClient worker = client(kind, "worker");
        SecClient bob = client(kind, "bob");
        SecClient alice = client(Kind.HIVEMQ_V5, "alice");
        assertThat(bob.subscribe("$share/w/jobs/#")).isEqualTo(refused);
        assertThat(bob.subscribe("$share/w/jobs/bob/#")).as("not even over his own jobs").isEqualTo(refused);
        assertThat(bob.subscribe("$share/other/jobs/bob/#")).isEqualTo(refused);
        assertThat(bob.subscribe("$share/bob/jobs/bob/#")).as("his own group").isEqualTo(1);
        assertThat(bob.subscribe("jobs/bob/#")).as("not a shared subscription").isEqualTo(1);
        assertThat(worker.subscribe("$share/w/jobs/#")).isEqualTo(1);
        assertThat(worker.subscribe("$share/w/jobs/+/task")).isEqualTo(1);
        assertThat(worker.subscribe("$share/w/#")).as("wider than the rule").isEqualTo(refused);

        assertThat(alice.publish("jobs/alice/task", "job")).isZero();
        assertThat(worker.until("jobs/alice/task")).isEmpty();
        assertThat(alice.publish("jobs/bob/task", "job")).isZero();
        assertThat(bob.until("jobs/bob/task")).isEmpty();
    }

    // A member's connection is lost with messages it had not acknowledged: they go to another member that may read
    // them (worker2), never to bob. The lost member has Receive Maximum 1 and holds all three (bob may read none).
    @Test
    void messagesOfALostMemberGoToAMemberThatMayReadThem() throws Exception {
        startWithoutShareRules();
        SecClient bob = client(Kind.HIVEMQ_V5, "bob");
        SecClient alice = client(Kind.HIVEMQ_V5, "alice");
        assertThat(bob.subscribe("$share/w/jobs/#")).isEqualTo(1);
        assertThat(bob.subscribe("marker/#")).isEqualTo(1);
        RawClient lost = open(RawClient.connect("127.0.0.1", server.port()));
        lost.send(Wire.packet(0x10, Wire.str("MQTT"), Wire.b(5),
                Wire.b(Wire.CLEAN | Wire.USER_NAME | Wire.PASSWORD), Wire.u16(60),
                Wire.props(Wire.receiveMaximum(1)), Wire.str("lost-worker"), Wire.str("worker"), Wire.str(PW)));
        byte[] connack = lost.readPacket(Duration.ofSeconds(10));
        assertThat(connack[0] & 0xFF).isEqualTo(0x20);
        assertThat(connack[3] & 0xFF).isZero();
        lost.send(Wire.subscribe5(1, Wire.props(), "$share/w/jobs/#", 1));
        assertThat(lost.readPacket(Duration.ofSeconds(10))).startsWith(0x90, 0x04, 0x00, 0x01, 0x00, 0x01);

        for (int i = 0; i < 3; i++) {
            assertThat(alice.publish("jobs/alice/task", "job " + i)).isZero();
        }
        Conn.Pub first = Conn.Pub.parse(lost.readPacket(Duration.ofSeconds(10)), true);
        assertThat(first.text()).isEqualTo("job 0");
        SecClient worker2 = client(Kind.PAHO_V5, "worker");
        assertThat(worker2.subscribe("$share/w/jobs/#")).isEqualTo(1);
        lost.close(); // no PUBACK, no DISCONNECT

        List<String> got = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            Msg m = worker2.messages.poll(10, TimeUnit.SECONDS);
            assertThat(m).as("message " + i + " of the lost member, at worker2; got " + got).isNotNull();
            got.add(m.text());
        }
        assertThat(got).containsExactlyInAnyOrder("job 0", "job 1", "job 2");
        assertThat(alice.publish("marker/lost", "end")).isZero();
        assertThat(bob.until("marker/lost")).isEmpty();
    }

    // An offline member with a persistent session counts, with the rights of the client that last connected to it:
    // while the worker is offline its session takes alice's jobs (PUBACK 0x00), not bob, who is online; the worker
    // gets them when it comes back.
    @Test
    void anOfflineMemberThatMayReadIsChosenOverAnOnlineOneThatMayNot() throws Exception {
        startWithoutShareRules();
        Hive worker = open(new Hive(server.port(), "worker-persistent", "worker", true));
        assertThat(worker.subscribe("$share/w/jobs/#")).isEqualTo(1);
        worker.disconnect();
        SecClient bob = client(Kind.PAHO_V311, "bob");
        assertThat(bob.subscribe("$share/w/jobs/#")).isEqualTo(1);
        assertThat(bob.subscribe("marker/#")).isEqualTo(1);
        SecClient alice = client(Kind.HIVEMQ_V5, "alice");
        for (int i = 0; i < 3; i++) {
            assertThat(alice.publish("jobs/alice/task", "job " + i)).isZero();
        }
        assertThat(alice.publish("marker/offline", "end")).isZero();
        assertThat(bob.until("marker/offline")).isEmpty();
        Hive back = open(new Hive(server.port(), "worker-persistent", "worker", false));
        List<String> got = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            Msg m = back.messages.poll(10, TimeUnit.SECONDS);
            assertThat(m).as("queued job " + i + "; got " + got).isNotNull();
            got.add(m.text());
        }
        assertThat(got).containsExactly("job 0", "job 1", "job 2");
    }

    // A persistent session joined the group as the worker and was last resumed by bob: offline, it has bob's rights.
    // As the only member, it takes bob's jobs but not alice's (PUBACK 0x10).
    @Test
    void anOfflineMemberHasTheRightsOfTheClientThatConnectedLast() throws Exception {
        startWithoutShareRules();
        Hive asWorker = open(new Hive(server.port(), "device-1", "worker", true));
        assertThat(asWorker.subscribe("$share/w/jobs/#")).isEqualTo(1);
        asWorker.disconnect();
        Hive asBob = open(new Hive(server.port(), "device-1", "bob", false));
        asBob.disconnect();
        SecClient alice = client(Kind.HIVEMQ_V5, "alice");
        assertThat(alice.publish("jobs/alice/task", "job")).as("bob's rights: no member may read it").isEqualTo(0x10);
        assertThat(alice.publish("jobs/bob/task", "job")).isZero();
    }

    // After a restart, a stored member session that no client has resumed yet has no known rights: it counts as a
    // member that may read (its messages are checked when a client resumes it). It takes alice's jobs rather than
    // bob, who may not read them, and the worker gets them when it resumes the session.
    @Test
    void aStoredMemberNotResumedSinceARestartCounts() throws Exception {
        Path data = java.nio.file.Files.createDirectories(tmp.resolve("stored"));
        Path passwd = Sec.passwordFile(tmp.resolve("passwd"), "worker", PW, "bob", PW, "alice", PW);
        Path acl = Sec.write(tmp.resolve("acl"), "allow user:worker read jobs/#", "allow all readwrite jobs/%u/#",
                "allow user:alice write jobs/#", "allow all readwrite marker/#");
        server = Sec.start(tmp, b -> b.passwordFile(passwd).aclFile(acl).dataDir(data));
        try (Hive worker = new Hive(server.port(), "worker-stored", "worker", true)) {
            assertThat(worker.subscribe("$share/w/jobs/#")).isEqualTo(1);
            worker.disconnect();
        }
        server.close();
        server = Sec.start(tmp, b -> b.passwordFile(passwd).aclFile(acl).dataDir(data));
        SecClient bob = client(Kind.PAHO_V5, "bob");
        assertThat(bob.subscribe("$share/w/jobs/#")).isEqualTo(1);
        assertThat(bob.subscribe("marker/#")).isEqualTo(1);
        SecClient alice = client(Kind.HIVEMQ_V5, "alice");
        assertThat(alice.publish("jobs/alice/task", "job")).as("the stored member takes it").isZero();
        assertThat(alice.publish("marker/restart", "end")).isZero();
        assertThat(bob.until("marker/restart")).isEmpty();
        Hive back = open(new Hive(server.port(), "worker-stored", "worker", false));
        Msg m = back.messages.poll(10, TimeUnit.SECONDS);
        assertThat(m).isNotNull();
        assertThat(m.text()).isEqualTo("job");
    }

    // The choice follows a reload of the file: once bob may read jobs/#, he takes his turn on alice's jobs; once he
    // may not again, he gets none. (The check on the publisher's loop binds the new rules itself; it does not wait
    // for bob's connection to look at them.)
    @Test
    void theChoiceFollowsAReloadOfTheRules() throws Exception {
        startWithoutShareRules();
        SecClient worker = client(Kind.HIVEMQ_V5, "worker");
        SecClient bob = client(Kind.HIVEMQ_V5, "bob");
        SecClient alice = client(Kind.HIVEMQ_V5, "alice");
        assertThat(worker.subscribe("$share/w/jobs/#")).isEqualTo(1);
        assertThat(bob.subscribe("$share/w/jobs/#")).isEqualTo(1);
        assertThat(bob.subscribe("marker/#")).isEqualTo(1);
        assertThat(alice.publish("jobs/alice/task", "before")).isZero();
        assertThat(alice.publish("marker/before", "end")).isZero();
        assertThat(bob.until("marker/before")).isEmpty();

        Sec.write(tmp.resolve("acl"), "allow user:bob read jobs/#", "allow user:worker read jobs/#",
                "allow all readwrite jobs/%u/#", "allow user:alice write jobs/#", "allow all readwrite marker/#");
        await().atMost(Duration.ofSeconds(15)).until(() -> server.broker().acl().file().version() == 2);
        for (int i = 0; i < 4; i++) {
            assertThat(alice.publish("jobs/alice/task", "after " + i)).isZero();
        }
        assertThat(alice.publish("marker/after", "end")).isZero();
        assertThat(bob.until("marker/after")).extracting(Msg::text).as("round robin: every other one").hasSize(2);

        Sec.write(tmp.resolve("acl"), "allow user:worker read jobs/#", "allow all readwrite jobs/%u/#",
                "allow user:alice write jobs/#", "allow all readwrite marker/#");
        await().atMost(Duration.ofSeconds(15)).until(() -> server.broker().acl().file().version() == 3);
        for (int i = 0; i < 4; i++) {
            assertThat(alice.publish("jobs/alice/task", "again " + i)).isZero();
        }
        assertThat(alice.publish("marker/again", "end")).isZero();
        assertThat(bob.until("marker/again")).isEmpty();
    }

    /** A HiveMQ 5.0 client with a persistent session (Session Expiry 300 s), for the offline-member tests. */
    private static final class Hive implements AutoCloseable {
        final Mqtt5AsyncClient c;
        final BlockingQueue<Msg> messages = new LinkedBlockingQueue<>();

        Hive(int port, String clientId, String user, boolean cleanStart) throws Exception {
            c = Mqtt5Client.builder().identifier(clientId).serverHost("127.0.0.1").serverPort(port).buildAsync();
            c.publishes(MqttGlobalPublishFilter.ALL, p -> messages.add(new Msg(p.getTopic().toString(),
                    p.getPayloadAsBytes(), p.getQos().getCode(), p.isRetain())));
            c.connectWith().cleanStart(cleanStart).sessionExpiryInterval(300).simpleAuth().username(user)
                    .password(PW.getBytes(StandardCharsets.UTF_8)).applySimpleAuth().send().get(10, TimeUnit.SECONDS);
        }

        /** The SUBACK reason code. */
        int subscribe(String filter) throws Exception {
            return c.subscribeWith().topicFilter(filter).qos(MqttQos.AT_LEAST_ONCE).send().get(10, TimeUnit.SECONDS)
                    .getReasonCodes().get(0).getCode();
        }

        void disconnect() throws Exception {
            c.disconnect().get(10, TimeUnit.SECONDS);
        }

        @Override
        public void close() {
            try {
                c.disconnect().get(2, TimeUnit.SECONDS);
            } catch (Exception e) {
                // closed already
            }
        }
    }
}
