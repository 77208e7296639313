package io.starling.cluster.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.starling.broker.message.Delivery;
import io.starling.broker.message.Message;
import io.starling.broker.message.PendingWill;
import io.starling.broker.session.MovedSession;
import io.starling.broker.topic.Subscription;
import io.starling.codec.Properties;
import java.nio.charset.StandardCharsets;
import java.util.AbstractMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The entry processors of the ownership map, on a plain map entry, and the encodings they rely on. */
class OwnershipOpsTest {

    private static final Subscription SUB = new Subscription("c", "a/+", 1, false, true, 0, 7, null);
    private static final Subscription SHARED = new Subscription("c", "s/t", 2, false, false, 0, 0, "g");

    private static Map.Entry<String, byte[]> entry(OwnerRecord r) {
        return new AbstractMap.SimpleEntry<>("c", r == null ? null : r.encode());
    }

    private static OwnerRecord value(Map.Entry<String, byte[]> e) {
        return OwnerRecord.decode(e.getValue());
    }

    private static PendingWill will(long delay) {
        Message m = new Message("w/t", 1, true, "bye".getBytes(StandardCharsets.UTF_8),
                Properties.builder().contentType("text/plain").addUserProperty("k", "v").build(), "c", Message.NEVER);
        return new PendingWill(m, delay);
    }

    @Test
    void aClaimMakesTheNodeTheOwnerWithTheNextEpochAndReturnsTheRecordBefore() {
        Map.Entry<String, byte[]> e = entry(null);
        assertThat(new OwnershipOps.Claim("n1").process(e)).isNull();
        assertThat(value(e).node()).isEqualTo("n1");
        assertThat(value(e).epoch()).isEqualTo(1);
        new OwnershipOps.Update("n1", new OwnerRecord("n1", 0, true, will(0), 60, List.of(SUB, SHARED)).encode())
                .process(e);
        byte[] before = new OwnershipOps.Claim("n2").process(e);
        OwnerRecord old = OwnerRecord.decode(before);
        assertThat(old.node()).isEqualTo("n1");
        assertThat(old.subscriptions()).containsExactly(SUB, SHARED);
        assertThat(old.will().message().properties().contentType()).isEqualTo("text/plain");
        OwnerRecord now = value(e);
        assertThat(now.node()).isEqualTo("n2");
        assertThat(now.epoch()).isEqualTo(2);
        assertThat(now.will()).as("the Will of the old connection is not the new one's").isNull();
        assertThat(now.subscriptions()).containsExactly(SUB, SHARED);
    }

    @Test
    void onlyTheOwnerWritesOrReleases() {
        Map.Entry<String, byte[]> e = entry(new OwnerRecord("n2", 5, true, null, 0, List.of()));
        OwnerRecord mine = new OwnerRecord("n1", 0, false, will(0), 10, List.of(SUB));
        assertThat(new OwnershipOps.Update("n1", mine.encode()).process(e)).isFalse();
        assertThat(new OwnershipOps.Release("n1").process(e)).isFalse();
        assertThat(value(e).node()).isEqualTo("n2");
        assertThat(new OwnershipOps.Release("n2").process(e)).isTrue();
        assertThat(e.getValue()).isNull();
    }

    @Test
    void aDeadNodesSessionIsOrphanedOnceAndItsDelayedWillTakenOnce() {
        Map.Entry<String, byte[]> e = entry(new OwnerRecord("n3", 4, true, will(5), 60, List.of(SUB)));
        byte[] first = new OwnershipOps.Orphan("n3").process(e);
        assertThat(OwnerRecord.decode(first).will()).isNotNull();
        assertThat(new OwnershipOps.Orphan("n3").process(e)).as("a second survivor gets nothing").isNull();
        assertThat(value(e).node()).isEmpty();
        assertThat(value(e).subscriptions()).containsExactly(SUB);
        // a claim since: the delayed Will is not published
        Map.Entry<String, byte[]> claimed = new AbstractMap.SimpleEntry<>("c", e.getValue());
        new OwnershipOps.Claim("n1").process(claimed);
        assertThat(new OwnershipOps.TakeWill(4).process(claimed)).isNull();
        // no claim: taken once
        assertThat(new OwnershipOps.TakeWill(4).process(e)).isNotNull();
        assertThat(new OwnershipOps.TakeWill(4).process(e)).isNull();
    }

    @Test
    void aGracefulLeaveClearsTheWillsOfConnectionsButKeepsDelayedOnes() {
        Map.Entry<String, byte[]> connected = entry(new OwnerRecord("n1", 1, true, will(0), 0, List.of()));
        Map.Entry<String, byte[]> waiting = entry(new OwnerRecord("n1", 1, false, will(30), 60, List.of()));
        new OwnershipOps.ClearWills("n1").process(connected);
        new OwnershipOps.ClearWills("n1").process(waiting);
        assertThat(value(connected).will()).isNull();
        assertThat(value(waiting).will()).isNotNull();
    }

    @Test
    void aRestoredSessionIsRegisteredUnlessAnotherLiveNodeOwnsIt() {
        byte[] mine = new OwnerRecord("n1", 0, false, null, 60, List.of(SUB)).encode();
        assertThat(new OwnershipOps.Restore("n1", mine).process(entry(null))).isTrue();
        assertThat(new OwnershipOps.Restore("n1", mine).process(entry(new OwnerRecord("", 3, false, null, 0, List.of()))))
                .isTrue();
        assertThat(new OwnershipOps.Restore("n1", mine).process(entry(new OwnerRecord("n2", 3, true, null, 0, List.of()))))
                .isFalse();
    }

    @Test
    void afterAHealALiveSessionIsTakenBackUnlessAnotherNodeOwnsItNow() {
        byte[] mine = new OwnerRecord("n3", 0, true, will(0), 60, List.of(SUB)).encode();
        Map.Entry<String, byte[]> orphaned = entry(new OwnerRecord("", 4, false, null, 60, List.of()));
        assertThat(new OwnershipOps.Reassert("n3", mine).process(orphaned)).isTrue();
        assertThat(value(orphaned).node()).isEqualTo("n3");
        assertThat(value(orphaned).epoch()).isEqualTo(5);
        assertThat(value(orphaned).will()).isNotNull();
        Map.Entry<String, byte[]> taken = entry(new OwnerRecord("n1", 5, true, null, 60, List.of()));
        assertThat(new OwnershipOps.Reassert("n3", mine).process(taken)).isFalse();
        assertThat(value(taken).node()).isEqualTo("n1");
    }

    @Test
    void aParkedSessionStaysWithTheOrphanedRecordUntilTheNextClaim() {
        Map.Entry<String, byte[]> e = entry(new OwnerRecord("n3", 2, false, null, 60, List.of(SUB)));
        assertThat(new OwnershipOps.Park("n1", new byte[] {1}).process(e)).as("only the owner parks").isFalse();
        assertThat(new OwnershipOps.Park("n3", new byte[] {1, 2}).process(e)).isTrue();
        new OwnershipOps.Orphan("n3").process(e);
        assertThat(value(e).parked()).containsExactly(1, 2);
        byte[] before = new OwnershipOps.Claim("n1").process(e);
        assertThat(OwnerRecord.decode(before).parked()).containsExactly(1, 2);
        assertThat(value(e).parked()).as("the claiming node took it").isNull();
    }

    @Test
    void aMovedSessionRoundTrips() {
        Message m = new Message("q/t", 2, false, new byte[] {1, 2, 3}, Properties.builder().correlationData(new byte[] {9})
                .messageExpiryInterval(30L).build(), "p", 123_456L);
        MovedSession moved = new MovedSession(List.of(SUB), 99, List.of(new Delivery(m, 1, false, List.of(7))),
                List.of(1, 65_535));
        MovedSession back = MovedBytes.decode(MovedBytes.encode("n1", moved));
        assertThat(back.subscriptions()).containsExactly(SUB);
        assertThat(back.expirySeconds()).isEqualTo(99);
        assertThat(back.inboundQos2()).containsExactly(1, 65_535);
        Delivery d = back.queued().get(0);
        assertThat(d.qos()).isEqualTo(1);
        assertThat(d.subscriptionIds()).containsExactly(7);
        assertThat(d.message().payload()).containsExactly(1, 2, 3);
        assertThat(d.message().expiresAtMillis()).isEqualTo(123_456L);
        assertThat(d.message().properties().correlationData()).containsExactly(9);
    }

    @Test
    void garbageRecordsAreRefusedNotMisread() {
        byte[] good = new OwnerRecord("n1", 1, true, will(0), 0, List.of(SUB)).encode();
        assertThatThrownBy(() -> OwnerRecord.decode(new byte[] {9, 0, 0})).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> OwnerRecord.decode(java.util.Arrays.copyOf(good, good.length / 2)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> MovedBytes.decode(new byte[] {0x7F, 0, 0, 0})).isInstanceOf(IllegalArgumentException.class);
    }
}
