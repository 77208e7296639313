package io.starling.broker.session;

import static org.assertj.core.api.Assertions.assertThat;

import io.starling.broker.acl.Acl;
import io.starling.broker.acl.ClientIdentity;
import io.starling.broker.acl.TopicAccess;
import io.starling.broker.message.Delivery;
import io.starling.broker.message.Message;
import io.starling.broker.time.ManualClock;
import io.starling.codec.PacketEncoder;
import io.starling.codec.Properties;
import io.starling.codec.ProtocolVersion;
import io.starling.codec.packet.PublishPacket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What of a delivery reaches a connection: the ACL's read check, message expiry, the client's maximum packet size. */
class DeliveryFilterTest {

    @TempDir
    Path tmp;

    private final ManualClock clock = new ManualClock(1_700_000_000_000L);

    private DeliveryFilter filter(ProtocolVersion version, long maxPacketSize) {
        return new DeliveryFilter(null, version, maxPacketSize, clock);
    }

    private Message expiring(long intervalSeconds) {
        Properties props = Properties.builder().messageExpiryInterval(intervalSeconds).build();
        return Message.published("t", 1, false, new byte[10], props, "pub", clock.millis());
    }

    @Test
    void aMessageExpiresAtItsIntervalAndNotBefore() {
        DeliveryFilter f = filter(ProtocolVersion.MQTT_5, Long.MAX_VALUE);
        Delivery d = new Delivery(expiring(10), 1, false, List.of());
        clock.advance(9_999, TimeUnit.MILLISECONDS);
        assertThat(f.check(d)).isEqualTo(DeliveryFilter.Verdict.SEND);
        clock.advance(2, TimeUnit.MILLISECONDS);
        // [MQTT-3.3.2-5] expired before onward delivery started: not sent
        assertThat(f.check(d)).isEqualTo(DeliveryFilter.Verdict.EXPIRED);
    }

    @Test
    void theForwardedIntervalIsWhatIsLeftRoundedUp() {
        DeliveryFilter f = filter(ProtocolVersion.MQTT_5, Long.MAX_VALUE);
        Delivery d = new Delivery(expiring(10), 1, false, List.of(3, 4));
        clock.advance(2_500, TimeUnit.MILLISECONDS);
        PublishPacket p = f.toPacket(d, 17, false);
        // [MQTT-3.3.2-6] the interval minus the time the message waited: 7.5 s left, sent as 8
        assertThat(p.properties().messageExpiryInterval()).isEqualTo(8L);
        assertThat(p.properties().subscriptionIdentifiers()).containsExactly(3, 4);
        assertThat(p.packetId()).isEqualTo(17);
    }

    @Test
    void mqtt3PublishesCarryNoProperties() {
        DeliveryFilter f = filter(ProtocolVersion.MQTT_3_1_1, Long.MAX_VALUE);
        PublishPacket p = f.toPacket(new Delivery(expiring(10), 1, false, List.of(3)), 1, true);
        assertThat(p.properties()).isSameAs(Properties.EMPTY);
        assertThat(p.dup()).isTrue();
    }

    @Test
    void aPublishLargerThanTheClientsMaximumPacketSizeDoesNotFit() {
        Message m = new Message("t", 1, false, new byte[100], Properties.EMPTY, "pub", Message.NEVER);
        PublishPacket p = filter(ProtocolVersion.MQTT_5, Long.MAX_VALUE)
                .toPacket(new Delivery(m, 1, false, List.of()), 1, false);
        long size = PacketEncoder.encodedSize(p, ProtocolVersion.MQTT_5);
        // [MQTT-3.1.2-25] the server does not send a packet above the client's Maximum Packet Size
        assertThat(filter(ProtocolVersion.MQTT_5, size).fits(p)).isTrue();
        assertThat(filter(ProtocolVersion.MQTT_5, size - 1).fits(p)).isFalse();
        assertThat(filter(ProtocolVersion.MQTT_5, Long.MAX_VALUE).fits(p)).isTrue();
    }

    @Test
    void aTopicTheClientMayNotReadIsNotSent() throws Exception {
        Path rules = tmp.resolve("acl");
        Files.write(rules, List.of("allow all read public/#"));
        TopicAccess access = new Acl(rules).accessFor(new ClientIdentity("u", "c", List.of()));
        DeliveryFilter f = new DeliveryFilter(access, ProtocolVersion.MQTT_5, Long.MAX_VALUE, clock);
        Message secret = new Message("private/x", 0, false, new byte[1], Properties.EMPTY, "pub", Message.NEVER);
        Message open = new Message("public/x", 0, false, new byte[1], Properties.EMPTY, "pub", Message.NEVER);
        assertThat(f.check(new Delivery(secret, 0, false, List.of()))).isEqualTo(DeliveryFilter.Verdict.NOT_AUTHORIZED);
        assertThat(f.check(new Delivery(open, 0, false, List.of()))).isEqualTo(DeliveryFilter.Verdict.SEND);
        assertThat(f.mayRead("private/x")).isFalse();
    }
}
