package io.starling.it.security;

import static org.assertj.core.api.Assertions.assertThat;

import io.starling.it.Msg;
import io.starling.it.security.SecClient.Kind;
import io.starling.server.StarlingServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The {@code $SYS/broker/...} topics are read through the ACL like any topic: a user whom a rule lets read
 * {@code $SYS/#} gets them (the retained ones at once), one whom a rule denies it cannot subscribe to them, and a
 * {@code #} subscription does not reach them.
 */
class SysAclTest {

    private static Path dir;
    private static StarlingServer server;
    private static int port;
    private static final AtomicInteger IDS = new AtomicInteger();

    @BeforeAll
    static void start() throws Exception {
        dir = Files.createTempDirectory("starling-sys-acl-");
        Path passwd = Sec.passwordFile(dir.resolve("passwd"), "operator", "watching", "guest", "visiting");
        Path acl = Sec.write(dir.resolve("acl"),
                "allow user:operator read $SYS/#",
                "deny  user:guest    read $SYS/#",
                "allow all readwrite #");
        server = Sec.start(dir, b -> b.passwordFile(passwd).aclFile(acl).sysIntervalSeconds(1));
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

    @ParameterizedTest(name = "{0}")
    @EnumSource(value = Kind.class, names = {"PAHO_V311", "PAHO_V5"})
    void aUserAllowedToReadSysGetsItsTopics(Kind kind) throws Exception {
        try (SecClient operator = SecClient.connect(kind, port, "operator-" + IDS.incrementAndGet(), "operator",
                "watching")) {
            assertThat(operator.subscribe("$SYS/broker/version")).isEqualTo(1);
            assertThat(operator.subscribe("$SYS/broker/uptime")).isEqualTo(1);
            operator.until("$SYS/broker/version"); // retained, sent on subscribe
            operator.until("$SYS/broker/uptime"); // every second
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(value = Kind.class, names = {"PAHO_V311", "PAHO_V5"})
    void aUserDeniedSysCannotReadIt(Kind kind) throws Exception {
        String cid = "guest-" + IDS.incrementAndGet();
        int refused = kind.level == 5 ? 0x87 : 0x80;
        try (SecClient guest = SecClient.connect(kind, port, cid, "guest", "visiting")) {
            assertThat(guest.subscribe("$SYS/#")).isEqualTo(refused);
            assertThat(guest.subscribe("$SYS/broker/version")).isEqualTo(refused);
            assertThat(guest.subscribe("$SYS/broker/uptime")).isEqualTo(refused);
            assertThat(guest.subscribe("#")).isEqualTo(1);
            // the uptime is published every second; a marker published after two seconds' worth ends the wait
            SecClient operator = SecClient.connect(Kind.PAHO_V311, port, "operator-" + IDS.incrementAndGet(),
                    "operator", "watching");
            try (operator) {
                assertThat(operator.subscribe("$SYS/broker/uptime")).isEqualTo(1);
                operator.until("$SYS/broker/uptime");
                operator.until("$SYS/broker/uptime");
            }
            guest.publish("marker/" + cid, "end");
            assertThat(guest.until("marker/" + cid)).extracting(Msg::topic).noneMatch(t -> t.startsWith("$"));
        }
    }
}
