package io.starling.it.security;

import static org.assertj.core.api.Assertions.assertThat;

import io.starling.it.Msg;
import io.starling.it.security.SecClient.Kind;
import io.starling.server.StarlingServer;
import io.starling.testkit.RawClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Authorization with an ACL file, end to end with Paho v3 (3.1.1), Paho v5 and HiveMQ v5: every right (write, read,
 * readwrite, deny) with every kind of topic pattern (plain, {@code %u}, {@code %c}) on both protocol versions;
 * wildcard subscriptions and retained messages that must not show denied topics; {@code $SYS}; precedence; the Will;
 * user names that were not verified.
 *
 * <p>What the specification says about refusals: a SUBSCRIBE the server refuses gets 0x80 in the SUBACK on 3.1.1
 * [MQTT-3.9.3-2] and a reason code such as 0x87 Not authorized on 5.0 (3.9.3); a PUBLISH the client may not make is
 * acknowledged positively on 3.1.1 and dropped [MQTT-3.3.5-2], and answered with PUBACK 0x87 on 5.0 (3.4.2.1).
 * Absence of a message is asserted against a marker published after it (same publisher, same subscriber: in order).
 */
class AclTest {

    private static Path dir;
    private static StarlingServer server;
    private static int port;
    private static final AtomicInteger IDS = new AtomicInteger();

    @BeforeAll
    static void start() throws Exception {
        dir = Files.createTempDirectory("starling-acl-");
        Path passwd = Sec.passwordFile(dir.resolve("passwd"), "alice", "wonderland", "observer", "watching");
        Path acl = Sec.write(dir.resolve("acl"),
                "# the matrix for alice: right x pattern",
                "allow user:alice write      m/write/none/#",
                "allow user:alice read       m/read/none/#",
                "allow user:alice readwrite  m/readwrite/none/#",
                "deny  user:alice readwrite  m/deny/none/#",
                "allow all write             m/write/u/%u/#",
                "allow all read              m/read/u/%u/#",
                "allow all readwrite         m/readwrite/u/%u/#",
                "deny  all readwrite         m/deny/u/%u/#",
                "allow all write             m/write/c/%c/#",
                "allow all read              m/read/c/%c/#",
                "allow all readwrite         m/readwrite/c/%c/#",
                "deny  all readwrite         m/deny/c/%c/#",
                "# the observer may do everything under m/; the deny rules above come first, so this does not undo them",
                "allow user:observer readwrite m/#",
                "allow user:alice readwrite m/deny/none/#",
                "allow all readwrite m/deny/u/%u/#",
                "allow all readwrite m/deny/c/%c/#",
                "allow all readwrite marker/#",
                "# wildcards",
                "allow user:alice read w/open/#",
                "deny  user:alice read w/closed/#",
                "allow user:observer readwrite w/#",
                "# precedence: the first match decides",
                "allow user:alice read p/#",
                "deny  user:alice read p/secret",
                "deny  user:alice write q/locked",
                "allow user:alice write q/#",
                "allow user:observer readwrite p/#",
                "# $SYS: readable; writing it is refused whatever a rule says",
                "allow all readwrite $SYS/#");
        server = Sec.start(dir, b -> b.passwordFile(passwd).aclFile(acl));
        port = server.port();
    }

    @AfterAll
    static void stop() throws Exception {
        if (server != null) {
            server.close();
        }
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    private static SecClient alice(Kind kind, String clientId) throws Exception {
        return SecClient.connect(kind, port, clientId, "alice", "wonderland");
    }

    private static SecClient observer() throws Exception {
        return SecClient.connect(Kind.PAHO_V311, port, "observer-" + IDS.incrementAndGet(), "observer", "watching");
    }

    private static int granted(Kind kind, boolean allowed) {
        return allowed ? 1 : kind.level == 5 ? 0x87 : 0x80;
    }

    private static int acked(Kind kind, boolean allowed) {
        return allowed || kind.level == 4 ? 0x00 : 0x87;
    }

    static Stream<Arguments> matrix() {
        List<Arguments> cases = new ArrayList<>();
        for (String right : List.of("write", "read", "readwrite", "deny")) {
            for (String pattern : List.of("none", "u", "c")) {
                for (Kind kind : List.of(Kind.PAHO_V311, Kind.PAHO_V5)) {
                    cases.add(Arguments.of(right, pattern, kind));
                }
            }
        }
        return cases.stream();
    }

    // Each right x pattern x version: SUBACK granted or refused (0x80 [MQTT-3.9.3-2] / 0x87), PUBLISH delivered or
    // dropped (PUBACK 0x00 on 3.1.1 [MQTT-3.3.5-2], 0x87 on 5.0), messages to alice delivered or not. %u and %c
    // stand for alice's own user name and client id only: the same pattern with another value is denied.
    @ParameterizedTest(name = "{0} on a {1} pattern, {2}")
    @MethodSource("matrix")
    void everyRightWithEveryPatternOnBothVersions_MQTT_3_3_5_2_and_3_9_3_2(String right, String pattern, Kind kind)
            throws Exception {
        String cid = "alice-" + IDS.incrementAndGet();
        String own = switch (pattern) {
            case "u" -> "m/" + right + "/u/alice/" + cid;
            case "c" -> "m/" + right + "/c/" + cid + "/x";
            default -> "m/" + right + "/none/" + cid;
        };
        String foreign = switch (pattern) {
            case "u" -> "m/" + right + "/u/bob/" + cid;
            case "c" -> "m/" + right + "/c/someone-else/x";
            default -> null;
        };
        boolean canWrite = right.equals("write") || right.equals("readwrite");
        boolean canRead = right.equals("read") || right.equals("readwrite");
        String toObserver = "marker/" + cid + "/to-observer";
        String toAlice = "marker/" + cid + "/to-alice";
        try (SecClient alice = alice(kind, cid); SecClient observer = observer()) {
            assertThat(observer.subscribe("m/" + right + "/#")).isEqualTo(1);
            assertThat(observer.subscribe(toObserver)).isEqualTo(1);
            assertThat(alice.subscribe(own)).as("SUBACK for " + own).isEqualTo(granted(kind, canRead));
            assertThat(alice.subscribe(toAlice)).isEqualTo(1);
            if (foreign != null) {
                assertThat(alice.subscribe(foreign)).as("SUBACK for " + foreign).isEqualTo(granted(kind, false));
            }

            assertThat(alice.publish(own, "from alice")).as("PUBACK for " + own).isEqualTo(acked(kind, canWrite));
            if (foreign != null) {
                assertThat(alice.publish(foreign, "from alice")).isEqualTo(acked(kind, false));
            }
            assertThat(alice.publish(toObserver, "end")).isZero();
            List<String> seenByObserver = observer.until(toObserver).stream().map(Msg::topic).toList();
            if (canWrite) {
                assertThat(seenByObserver).containsExactly(own);
            } else {
                assertThat(seenByObserver).as("alice's PUBLISH was dropped").isEmpty();
            }

            assertThat(observer.publish(own, "to alice")).isZero();
            if (foreign != null) {
                assertThat(observer.publish(foreign, "to alice")).isZero();
            }
            assertThat(observer.publish(toAlice, "end")).isZero();
            // (with readwrite alice also gets her own message, published before)
            List<String> seenByAlice = alice.until(toAlice).stream().map(m -> m.topic() + " " + m.text()).toList();
            if (canRead) {
                assertThat(seenByAlice).endsWith(own + " to alice")
                        .hasSize(canWrite ? 2 : 1).allMatch(m -> m.startsWith(own + " "));
            } else {
                assertThat(seenByAlice).isEmpty();
            }
        }
    }

    // A wildcard subscription ('#', 'w/#', 'w/+/x') is granted when some topic of it is readable, and then shows
    // only readable topics: retained messages sent on subscribe [MQTT-3.3.1-6] and live ones are checked per topic.
    @ParameterizedTest(name = "{0}")
    @EnumSource(Kind.class)
    void wildcardSubscriptionsNeverShowDeniedTopicsNorRetainedOnes(Kind kind) throws Exception {
        String n = Integer.toString(IDS.incrementAndGet());
        List<String> topics = List.of("w/open/x", "w/closed/x", "w/other/x");
        try (SecClient observer = observer()) {
            for (String t : topics) {
                observer.publish(t, "retained " + n, 1, true);
            }
        }
        String cid = "alice-w-" + n;
        String marker = "marker/" + cid;
        try (SecClient alice = alice(kind, cid); SecClient observer = observer()) {
            assertThat(alice.subscribe(marker)).isEqualTo(1);
            for (String filter : List.of("#", "w/#", "w/+/x", "+/+/x")) {
                assertThat(alice.subscribe(filter)).as(filter).isEqualTo(1);
            }
            assertThat(alice.subscribe("w/closed/#")).as("nothing readable in it").isEqualTo(granted(kind, false));
            for (String t : topics) {
                assertThat(observer.publish(t, "live " + n)).isZero();
            }
            assertThat(observer.publish(marker, "end")).isZero();
            List<Msg> got = alice.until(marker);
            assertThat(got).extracting(Msg::topic).isNotEmpty().allMatch(t -> !t.startsWith("w/") || t.equals("w/open/x"))
                    .contains("w/open/x");
            assertThat(got).filteredOn(Msg::retain).extracting(Msg::topic).containsOnly("w/open/x").isNotEmpty();
            assertThat(got).filteredOn(m -> !m.retain()).extracting(Msg::text).contains("live " + n);
        }
    }

    // The filter of a shared subscription is checked like any other ($share/{group}/ is not part of the topic).
    @ParameterizedTest(name = "{0}")
    @EnumSource(value = Kind.class, names = {"PAHO_V311", "PAHO_V5"})
    void sharedSubscriptionsAreCheckedOnTheirFilter(Kind kind) throws Exception {
        try (SecClient alice = alice(kind, "alice-s-" + IDS.incrementAndGet())) {
            assertThat(alice.subscribe("$share/g/w/open/#")).isEqualTo(1);
            assertThat(alice.subscribe("$share/g/w/closed/#")).isEqualTo(granted(kind, false));
        }
    }

    // $SYS is read-only for everyone: a PUBLISH to it is dropped (PUBACK 0x87 on 5.0), even with a rule that allows it.
    @ParameterizedTest(name = "{0}")
    @EnumSource(Kind.class)
    void nobodyPublishesToSys(Kind kind) throws Exception {
        String cid = "alice-sys-" + IDS.incrementAndGet();
        String marker = "marker/" + cid;
        try (SecClient alice = alice(kind, cid); SecClient reader = observer()) {
            assertThat(reader.subscribe("$SYS/#")).isEqualTo(1);
            assertThat(reader.subscribe(marker)).isEqualTo(1);
            assertThat(alice.publish("$SYS/broker/clients", "fake")).isEqualTo(acked(kind, false));
            assertThat(alice.publish("$SYS/broker/retained", "fake", 1, true)).isEqualTo(acked(kind, false));
            assertThat(alice.publish(marker, "end")).isZero();
            // what the broker itself publishes under $SYS/broker/ may come; nothing of alice's
            assertThat(reader.until(marker)).extracting(Msg::topic).allMatch(t -> t.startsWith("$SYS/broker/"))
                    .doesNotContain("$SYS/broker/clients", "$SYS/broker/retained");
        }
        try (SecClient late = observer()) {
            assertThat(late.subscribe("$SYS/#")).isEqualTo(1);
            assertThat(late.subscribe("marker/late")).isEqualTo(1);
            late.publish("marker/late", "end");
            assertThat(late.until("marker/late")).as("no retained $SYS message of a client was stored")
                    .extracting(Msg::topic).doesNotContain("$SYS/broker/clients", "$SYS/broker/retained");
        }
    }

    // The first matching rule decides: "allow read p/#" before "deny read p/secret" lets alice read p/secret;
    // "deny write q/locked" before "allow write q/#" keeps her from publishing there.
    @ParameterizedTest(name = "{0}")
    @EnumSource(value = Kind.class, names = {"PAHO_V311", "PAHO_V5"})
    void theFirstMatchingRuleDecides(Kind kind) throws Exception {
        String cid = "alice-p-" + IDS.incrementAndGet();
        String marker = "marker/" + cid;
        try (SecClient alice = alice(kind, cid); SecClient observer = observer()) {
            assertThat(alice.subscribe("p/secret")).isEqualTo(1);
            assertThat(alice.subscribe(marker)).isEqualTo(1);
            observer.publish("p/secret", "s");
            observer.publish(marker, "end");
            assertThat(alice.until(marker)).extracting(Msg::topic).containsExactly("p/secret");
            assertThat(alice.publish("q/locked", "x")).isEqualTo(acked(kind, false));
            assertThat(alice.publish("q/open", "x")).as("success or no matching subscribers").isIn(0x00, 0x10);
        }
    }

    // The Will is a PUBLISH the client asks for at CONNECT: one it may not make refuses the connection
    // (CONNACK 0x05 / 0x87) instead of being dropped silently later; 5.0 [MQTT-3.1.4-2]: a failed authorisation
    // check closes the connection.
    @ParameterizedTest(name = "protocol level {0}")
    @ValueSource(ints = {4, 5})
    void aWillTheClientMayNotPublishRefusesTheConnect(int level) {
        try (RawClient c = RawClient.connect("127.0.0.1", port)) {
            c.send(Sec.connectWithWill(level, "alice-will-" + IDS.incrementAndGet(), "alice", "wonderland", "m/read/none/w"));
            byte[] connack = c.readPacket(Duration.ofSeconds(10));
            assertThat(connack[3] & 0xFF).isEqualTo(Sec.notAuthorized(level));
        }
        try (RawClient c = RawClient.connect("127.0.0.1", port)) {
            c.send(Sec.connectWithWill(level, "alice-will-" + IDS.incrementAndGet(), "alice", "wonderland", "$SYS/will"));
            assertThat(c.readPacket(Duration.ofSeconds(10))[3] & 0xFF).isEqualTo(Sec.notAuthorized(level));
        }
        try (RawClient c = RawClient.connect("127.0.0.1", port)) {
            c.send(Sec.connectWithWill(level, "alice-will-" + IDS.incrementAndGet(), "alice", "wonderland", "q/will"));
            assertThat(c.readPacket(Duration.ofSeconds(10))[3] & 0xFF).isZero();
        }
    }

    // The user name of a listener without authentication is not verified, so ACL rules for that user do not apply:
    // the client is anonymous.
    @Test
    void anUnverifiedUserNameIsAnonymous() throws Exception {
        Path acl = Sec.write(dir.resolve("acl-open"), "allow user:alice readwrite a/#", "allow anonymous readwrite anon/#");
        try (StarlingServer open = Sec.start(dir, b -> b.aclFile(acl));
                SecClient claimsAlice = SecClient.connect(Kind.PAHO_V5, open.port(), "claims", "alice", "x")) {
            assertThat(claimsAlice.publish("a/x", "m")).isEqualTo(0x87);
            assertThat(claimsAlice.subscribe("a/#")).isEqualTo(0x87);
            assertThat(claimsAlice.publish("anon/x", "m")).isIn(0x00, 0x10);
        }
    }
}
