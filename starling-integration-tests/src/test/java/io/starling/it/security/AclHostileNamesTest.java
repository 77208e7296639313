package io.starling.it.security;

import static org.assertj.core.api.Assertions.assertThat;

import io.starling.broker.auth.AuthResult;
import io.starling.broker.auth.Authenticator;
import io.starling.broker.config.BrokerConfig;
import io.starling.broker.config.ListenerConfig;
import io.starling.it.Msg;
import io.starling.it.security.SecClient.Kind;
import io.starling.server.StarlingServer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * User names and client ids chosen to attack the {@code %u}/{@code %c} placeholders of ACL rules, end to end with
 * Paho v3 (3.1.1), Paho v5 and HiveMQ v5. Every rule of the file names the victims' topics only through a
 * placeholder ({@code allow all readwrite home/%u/#} and the like); the victims are user {@code alice} with client id
 * {@code alice-phone} and, for the values with a {@code /}, user or client {@code a}. An attacker connects with a hostile
 * user name (from the password file, or, for {@code #} and no name at all, from an authenticator and a listener
 * with {@code allow-anonymous}) and often with a client id that a placeholder would turn into the victim's name:
 * <ul>
 *   <li>subscribes to each victim's subtree and to {@code $SYS}: SUBACK 0x80 (3.1.1) [MQTT-3.9.3-2] / 0x87 (5.0);</li>
 *   <li>subscribes to wildcards over everybody's topics ({@code #}, {@code home/+/#}, ...), which may be granted,
 *       and receives none of the victims' messages: neither the retained ones stored before it subscribed
 *       [MQTT-3.3.1-6] nor live ones published after;</li>
 *   <li>publishes to the victims' topics: dropped (5.0 PUBACK 0x87; 3.1.1 acknowledged and dropped
 *       [MQTT-3.3.5-2]), an observer subscribed to {@code #} gets none of them.</li>
 * </ul>
 * The first case is the double expansion: a user called {@code %c} with client id {@code alice} used to get
 * {@code home/alice/#} from {@code home/%u/#}.
 */
class AclHostileNamesTest {

    private static final List<String> ACL = List.of(
            "allow user:observer readwrite #",
            "allow all readwrite home/%u/#",
            "allow all readwrite dev/%c/#",
            "allow all readwrite both/%u/%c/#",
            "allow all readwrite glued/u-%u-c-%c",
            "allow all read      %u/inbox/#",
            "allow all readwrite public/#");

    /**
     * The victims' topics: those of user alice with client id alice-phone, and those of user/client "a" that a value
     * "a/b" would reach. (Attackers use client id "alice": dev/alice/... is theirs, as a client id's topics belong to
     * whoever connects with it.)
     */
    private static final List<String> VICTIM_TOPICS = List.of("home/alice/x", "dev/alice-phone/x",
            "both/alice/alice-phone/x", "glued/u-alice-c-alice-phone", "alice/inbox/x", "home/a/b/x", "dev/a/b/x",
            "both/a/b/a/b/x");

    /** Filters with nothing but the victims' topics (and $SYS) in them: refused. */
    private static final List<String> VICTIM_FILTERS = List.of("home/alice/#", "dev/alice-phone/#",
            "both/alice/alice-phone/#", "both/alice/+/#", "glued/u-alice-c-alice-phone", "alice/inbox/#", "home/a/b/#",
            "dev/a/b/#", "$SYS/#", "$SYS/inbox/#", "$share/g/home/alice/#");

    /** Filters over everybody's topics: perhaps granted (the attacker may have topics of its own), never leaking. */
    private static final List<String> WILDCARDS = List.of("#", "home/#", "home/+/#", "dev/+/#", "+/inbox/#",
            "both/+/+/#", "glued/+", "+/+/#");

    private static final String PASSWORD = "pw";
    private static Path dir;
    private static StarlingServer byFile;
    private static StarlingServer byAuthenticator;
    private static final AtomicInteger IDS = new AtomicInteger();

    @BeforeAll
    static void start() throws Exception {
        dir = Files.createTempDirectory("starling-acl-hostile-");
        List<String> users = new ArrayList<>(List.of("observer", "watching", "alice", "wonderland", "mallory",
                PASSWORD));
        for (String u : fileUsers()) {
            users.add(u);
            users.add(PASSWORD);
        }
        Path passwd = Sec.passwordFile(dir.resolve("passwd"), users.toArray(String[]::new));
        Path acl = Sec.write(dir.resolve("acl"), ACL.toArray(String[]::new));
        byFile = Sec.start(dir, b -> b.passwordFile(passwd).aclFile(acl));
        // names a password file cannot hold: '#' (a comment line), the empty name; and anonymous clients
        Authenticator anyName = r -> CompletableFuture.completedFuture(
                r.password() != null && new String(r.password(), StandardCharsets.UTF_8).equals(PASSWORD)
                        ? AuthResult.allow(r.username()) : AuthResult.badCredentials());
        ListenerConfig listener = ListenerConfig.builder(ListenerConfig.Type.TCP).bind("127.0.0.1").port(0)
                .allowAnonymous(true).build();
        byAuthenticator = StarlingServer.start(BrokerConfig.builder().listeners(List.of(listener)).aclFile(acl)
                .dataDir(Files.createTempDirectory(dir, "data")).build(), anyName);
        // retained messages on every victim topic, stored before any attacker subscribes
        for (StarlingServer s : List.of(byFile, byAuthenticator)) {
            try (SecClient observer = observer(s)) {
                for (String t : VICTIM_TOPICS) {
                    observer.publish(t, "retained secret", 1, true);
                }
                observer.publish("public/retained", "retained control", 1, true);
            }
        }
    }

    @AfterAll
    static void stop() throws Exception {
        for (StarlingServer s : new StarlingServer[] {byFile, byAuthenticator}) {
            if (s != null) {
                s.close();
            }
        }
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    private static List<String> fileUsers() {
        return List.of("%c", "%u", "%u%c", "%c%u", "%x", "%%c", "50%", "+", "a/b", "alice/+", "$SYS", "$share");
    }

    private static SecClient observer(StarlingServer s) throws Exception {
        return s == byFile
                ? SecClient.connect(Kind.PAHO_V311, s.port(), "observer-" + IDS.incrementAndGet(), "observer", "watching")
                : SecClient.connect(Kind.PAHO_V311, s.port(), "observer-" + IDS.incrementAndGet(), "observer", PASSWORD);
    }

    /**
     * Each attacker once, with the three clients in turn; the ones that hit the holes the checks close (the double
     * expansion, '$' at the start, wildcards and '/') with all three.
     */
    static Stream<Arguments> attackers() {
        List<String[]> attackers = new ArrayList<>();
        for (String user : fileUsers()) {
            attackers.add(new String[] {"file", user, "alice"});
        }
        attackers.add(new String[] {"file", "a/b", "a/b"});
        for (String clientId : List.of("%c", "%u", "%u%c", "+", "#", "a/b", "a/+", "$SYS", "%x")) {
            attackers.add(new String[] {"file", "mallory", clientId});
        }
        // a password file cannot hold '#' (a comment line); the empty name is refused by every source of identities
        // (password file, authenticator, certificate), so it is not among them
        attackers.add(new String[] {"authenticator", "#", "alice"});
        attackers.add(new String[] {"authenticator", "#", "#"});
        attackers.add(new String[] {"authenticator", null, "alice"});
        List<String> everyClient = List.of("%c", "$SYS", "#");
        List<Arguments> cases = new ArrayList<>();
        for (int i = 0; i < attackers.size(); i++) {
            String[] a = attackers.get(i);
            boolean all = a[1] != null && (everyClient.contains(a[1])
                    || (a[1].equals("mallory") && everyClient.contains(a[2])));
            for (Kind kind : Kind.values()) {
                if (all || kind.ordinal() == i % Kind.values().length) {
                    cases.add(Arguments.of(a[0], a[1], a[2], kind));
                }
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{3}: user {1}, client id {2} ({0})")
    @MethodSource("attackers")
    void hostileNamesNeverReachAnotherClientsTopics_MQTT_3_9_3_2_and_3_3_5_2(String source, String user,
            String clientId, Kind kind) throws Exception {
        StarlingServer server = source.equals("file") ? byFile : byAuthenticator;
        int refused = kind.level == 5 ? 0x87 : 0x80;
        String n = Integer.toString(IDS.incrementAndGet());
        try (SecClient attacker = SecClient.connect(kind, server.port(), clientId, user, user == null ? null : PASSWORD);
                SecClient observer = observer(server)) {
            for (String f : VICTIM_FILTERS) {
                assertThat(attacker.subscribe(f)).as("SUBACK for " + f).isEqualTo(refused);
            }
            for (String f : WILDCARDS) {
                attacker.subscribe(f);
            }
            // the control: a retained message the attacker may read, sent after the retained ones of the filters above
            // (a session's retained messages come subscription by subscription, in the order of the subscriptions)
            assertThat(attacker.subscribe("public/#")).isEqualTo(1);
            assertThat(observer.subscribe("#")).isEqualTo(1);
            List<Msg> got = new ArrayList<>(attacker.until("public/retained"));

            // live messages on the victims' topics, then a marker
            for (String t : VICTIM_TOPICS) {
                assertThat(observer.publish(t, "live secret " + n)).isZero();
            }
            assertThat(observer.publish("public/marker-" + n, "end")).isZero();
            got.addAll(attacker.until("public/marker-" + n));
            assertThat(got).extracting(m -> m.topic() + " " + m.text())
                    .as("nothing but public/ reaches the attacker").allMatch(s -> s.startsWith("public/"));
            observer.until("public/marker-" + n);

            // the attacker's PUBLISH to the victims' topics is dropped
            for (String t : VICTIM_TOPICS) {
                assertThat(attacker.publish(t, "spoof " + n)).as("PUBACK for " + t).isEqualTo(kind.level == 5 ? 0x87 : 0);
                assertThat(attacker.publish(t, "", 1, true)).as("a retained delete on " + t)
                        .isEqualTo(kind.level == 5 ? 0x87 : 0);
            }
            assertThat(attacker.publish("public/end-" + n, "end")).isZero();
            assertThat(observer.until("public/end-" + n)).extracting(Msg::topic).as("the observer sees no spoofing")
                    .allMatch(t -> t.startsWith("public/"));
        }
        // and the victims' retained messages are still there
        try (SecClient late = observer(server)) {
            // a retained marker, subscribed to last: its retained message comes after those of home/alice/x
            late.publish("public/late-" + n, "end", 1, true);
            assertThat(late.subscribe("home/alice/x")).isEqualTo(1);
            assertThat(late.subscribe("public/late-" + n)).isEqualTo(1);
            assertThat(late.until("public/late-" + n)).extracting(Msg::text).containsExactly("retained secret");
        }
    }
}
