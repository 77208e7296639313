package io.starling.broker.session;

import static io.starling.broker.session.Deliveries.delivery;
import static io.starling.broker.session.Deliveries.shared;
import static io.starling.broker.session.Deliveries.stored;
import static org.assertj.core.api.Assertions.assertThat;

import io.starling.broker.message.Delivery;
import io.starling.broker.metrics.StripedCounter;
import io.starling.broker.store.StoredInflight;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The in-flight window: packet ids, the order of re-sends, what a restored session and a lost member hold. */
class InflightWindowTest {

    private final InflightWindow window = new InflightWindow();

    @Test
    void packetIdsSkipThoseInUseAndWrapAfter65535() {
        int first = window.allocatePacketId();
        window.add(first, delivery(1, 1));
        assertThat(first).isEqualTo(1);
        for (int i = 2; i < 65_535; i++) {
            assertThat(window.allocatePacketId()).isEqualTo(i);
        }
        assertThat(window.allocatePacketId()).isEqualTo(65_535);
        // packet id 0 is never used [MQTT-2.2.1-3]; 1 is still in flight
        assertThat(window.allocatePacketId()).isEqualTo(2);
    }

    @Test
    void snapshotKeepsTheOrderOfSendingForTheResend() {
        window.add(7, delivery(1, 1));
        window.add(3, delivery(2, 2));
        window.add(5, delivery(1, 3));
        window.remove(3);
        List<Map.Entry<Integer, InflightWindow.Entry>> order = window.snapshot();
        assertThat(order).extracting(Map.Entry::getKey).containsExactly(7, 5);
        window.remove(7); // the copy is not affected
        assertThat(order).hasSize(2);
        assertThat(window.size()).isEqualTo(1);
    }

    @Test
    void aRestoredWindowIsRecordedAndGoesOnAfterTheHighestPacketId() {
        var seqs = window.restore(List.of(new StoredInflight(4, stored(2, 1, 40)), new StoredInflight(9, null)));
        assertThat(seqs).containsExactly(40L);
        assertThat(window.get(4).stored).isTrue();
        assertThat(window.get(4).pubrelSent).isFalse();
        assertThat(window.get(9).pubrelSent).as("PUBREL pending: re-sent as PUBREL").isTrue();
        assertThat(window.allocatePacketId()).isEqualTo(10);
    }

    @Test
    void aRestoredWindowEndingAt65535StartsAgainAt1() {
        window.restore(List.of(new StoredInflight(65_535, null)));
        assertThat(window.allocatePacketId()).isEqualTo(1);
    }

    @Test
    void aLostMemberGivesUpSharedQos1ButCompletesSharedQos2() {
        window.add(1, shared(1, 1));
        window.add(2, shared(2, 2));
        window.add(3, delivery(1, 3));
        // [MQTT-4.8.2-4] the QoS 2 one is completed to this client when it reconnects
        assertThat(window.takeSharedQos1()).extracting(Deliveries::tag).containsExactly(1);
        assertThat(window.snapshot()).extracting(Map.Entry::getKey).containsExactly(2, 3);
    }

    @Test
    void resetStartsPacketIdsAgain() {
        window.add(window.allocatePacketId(), delivery(1, 1));
        window.add(window.allocatePacketId(), delivery(1, 2));
        window.clear();
        assertThat(window.allocatePacketId()).as("clear keeps the sequence").isEqualTo(3);
        window.reset();
        assertThat(window.size()).isZero();
        assertThat(window.allocatePacketId()).isEqualTo(1);
    }

    @Test
    void aWindowThatNeverHadAMessageAnswersAsEmpty() {
        assertThat(window.size()).isZero();
        assertThat(window.get(1)).isNull();
        assertThat(window.remove(1)).isNull();
        assertThat(window.snapshot()).isEmpty();
        List<Delivery> taken = window.takeSharedQos1();
        assertThat(taken).isEmpty();
        taken.add(delivery(1, 1)); // the session adds the queue's shared deliveries to it
        window.clear();
        assertThat(window.allocatePacketId()).isEqualTo(1);
    }

    @Test
    void theBrokerWideCountFollowsEveryWayInAndOut() {
        StripedCounter total = new StripedCounter();
        InflightWindow w = new InflightWindow(total);
        w.add(1, delivery(1, 1));
        w.add(2, shared(1, 2));
        w.add(3, delivery(2, 3));
        w.add(3, delivery(2, 3)); // the same packet id again: still one
        assertThat(total.sum()).isEqualTo(3);
        w.remove(1);
        w.remove(1);
        assertThat(total.sum()).isEqualTo(2);
        assertThat(w.takeSharedQos1()).hasSize(1);
        assertThat(total.sum()).isEqualTo(1);
        w.clear();
        assertThat(total.sum()).isZero();
        w.restore(List.of(new StoredInflight(7, stored(1, 1, 10)), new StoredInflight(8, null)));
        assertThat(total.sum()).as("a restored window counts what it holds").isEqualTo(2);
        w.reset();
        assertThat(total.sum()).isZero();
    }
}
