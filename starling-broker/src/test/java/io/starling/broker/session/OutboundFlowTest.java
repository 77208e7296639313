package io.starling.broker.session;

import static io.starling.broker.session.Deliveries.delivery;
import static io.starling.broker.session.Deliveries.message;
import static io.starling.broker.session.Deliveries.stored;
import static org.assertj.core.api.Assertions.assertThat;

import io.netty.util.concurrent.ImmediateEventExecutor;
import io.starling.broker.config.BrokerConfig;
import io.starling.broker.message.Delivery;
import io.starling.broker.message.Message;
import io.starling.broker.metrics.BrokerMetrics;
import io.starling.broker.time.ManualClock;
import io.starling.codec.Properties;
import io.starling.codec.ProtocolVersion;
import io.starling.codec.ReasonCode;
import io.starling.codec.packet.MqttPacket;
import io.starling.codec.packet.PubRelPacket;
import io.starling.codec.packet.PublishPacket;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The outbound side of a session: what is sent or queued, how acknowledgements free the window, the one end of every
 * delivery, the QoS 2 writes that wait for the store, the re-send on resume and what shedding takes.
 */
class OutboundFlowTest {

    private final BrokerMetrics metrics = new BrokerMetrics();
    private final ManualClock clock = new ManualClock(1_000_000L);
    private final FakeSessionParts.Store store = new FakeSessionParts.Store();
    private final FakeSessionParts.Connection connection = new FakeSessionParts.Connection(ProtocolVersion.MQTT_5);
    private final FakeSessionParts.Record record = new FakeSessionParts.Record();
    private Session session;
    private OutboundFlow flow;

    private void start(BrokerConfig config, boolean stored, boolean attached) {
        session = new Session("c", ImmediateEventExecutor.INSTANCE,
                new SessionContext(config, metrics, new LargeQueues(), store, clock));
        if (stored) {
            session.record(record);
        }
        if (attached) {
            session.attach(connection);
        }
        flow = new OutboundFlow(session);
    }

    private void start() {
        start(BrokerConfig.builder().build(), false, true);
    }

    private List<Integer> sentTags() {
        return connection.written.stream().filter(p -> p instanceof PublishPacket)
                .map(p -> (int) ((PublishPacket) p).payload()[0]).toList();
    }

    private PublishPacket lastPublish() {
        MqttPacket p = connection.written.get(connection.written.size() - 1);
        assertThat(p).isInstanceOf(PublishPacket.class);
        return (PublishPacket) p;
    }

    @Test
    void sendsWithinTheReceiveMaximumAndQueuesTheRestUntilAcknowledged() {
        start();
        connection.receiveMaximum = 2;
        for (int i = 1; i <= 4; i++) {
            flow.deliver(delivery(1, i));
        }
        assertThat(sentTags()).containsExactly(1, 2);
        assertThat(flow.inflightCount()).isEqualTo(2);
        assertThat(flow.queuedCount()).isEqualTo(2);

        flow.onPubAck(((PublishPacket) connection.written.get(0)).packetId());
        assertThat(sentTags()).containsExactly(1, 2, 3);
        assertThat(flow.queuedCount()).isEqualTo(1);
        assertThat(metrics.messagesDelivered()).isEqualTo(3);
    }

    @Test
    void aPubAckForAnUnknownOrQos2PacketIdChangesNothing() {
        start();
        flow.deliver(delivery(2, 1));
        int id = lastPublish().packetId();
        flow.onPubAck(id);
        flow.onPubAck(id + 1);
        assertThat(flow.inflightCount()).isEqualTo(1);
    }

    @Test
    void nothingIsSentWhileTheSocketIsNotWritable() {
        start();
        connection.writable = false;
        flow.deliver(delivery(0, 1));
        assertThat(connection.written).isEmpty();
        connection.writable = true;
        flow.drain();
        assertThat(sentTags()).containsExactly(1);
    }

    @Test
    void qos0IsNotKeptForAnOfflineSessionUnlessConfigured() {
        start(BrokerConfig.builder().build(), false, false);
        flow.deliver(delivery(0, 1));
        flow.deliver(delivery(1, 2));
        assertThat(flow.queuedDeliveries()).extracting(Deliveries::tag).containsExactly(2);

        start(BrokerConfig.builder().queueQos0Messages(true).build(), false, false);
        flow.deliver(delivery(0, 1));
        assertThat(flow.queuedCount()).isEqualTo(1);
    }

    @Test
    void anAcknowledgedStoredDeliveryLeavesTheStoredQueueOnce() {
        start(BrokerConfig.builder().build(), true, true);
        flow.deliverStored(stored(1, 1, 7));
        flow.onPubAck(lastPublish().packetId());
        flow.onPubAck(lastPublish().packetId()); // a duplicate PUBACK
        assertThat(record.writes).containsExactly("ack 7");
    }

    @Test
    void anExpiredDeliveryEndsUnsentAndCounted() {
        start(BrokerConfig.builder().build(), true, true);
        Message m = new Message("t", 1, false, new byte[] {1}, Properties.EMPTY, "pub", clock.millis() - 1);
        flow.deliverStored(new Delivery(m, 1, false, List.of()).stored(3, 3));
        assertThat(connection.written).isEmpty();
        assertThat(metrics.messagesExpired.sum()).isEqualTo(1);
        assertThat(record.writes).containsExactly("ack 3");
        assertThat(flow.inflightCount()).isZero();
    }

    @Test
    void aRefusedQos2DeliveryEndsAndFreesTheWindow() {
        start();
        connection.receiveMaximum = 1;
        flow.deliver(delivery(2, 1));
        flow.deliver(delivery(2, 2));
        flow.onPubRec(lastPublish().packetId(), ReasonCode.QUOTA_EXCEEDED);
        assertThat(sentTags()).containsExactly(1, 2);
        assertThat(connection.written).noneMatch(p -> p instanceof PubRelPacket);
    }

    @Test
    void qos2GoesPubrecPubrelPubcomp() {
        start();
        flow.deliver(delivery(2, 1));
        int id = lastPublish().packetId();
        flow.onPubRec(id, ReasonCode.SUCCESS);
        assertThat(connection.written.get(1)).isEqualTo(PubRelPacket.of(id));
        flow.onPubComp(id);
        assertThat(flow.inflightCount()).isZero();
    }

    @Test
    void aPubrecForAnUnknownPacketIdIsAnsweredWithNotFoundOnV5() {
        start();
        flow.onPubRec(9, ReasonCode.SUCCESS);
        assertThat(connection.written).containsExactly(
                new PubRelPacket(9, ReasonCode.PACKET_IDENTIFIER_NOT_FOUND, Properties.EMPTY));
    }

    @Test
    void aStoredQos2PublishWaitsForItsRecordAndLaterPacketsWaitBehindIt() {
        start(BrokerConfig.builder().build(), true, true);
        store.immediate = false;
        flow.deliverStored(stored(2, 1, 5));
        flow.deliver(delivery(0, 2));
        assertThat(record.writes).containsExactly("inflightSent 1");
        assertThat(connection.written).as("both wait for the record").isEmpty();
        store.complete(true);
        assertThat(sentTags()).containsExactly(1, 2);
    }

    @Test
    void aStoredQos2PublishWhoseRecordFailedClosesTheConnectionAndIsRecordedAgainOnResume() {
        start(BrokerConfig.builder().build(), true, true);
        store.immediate = false;
        flow.deliverStored(stored(2, 1, 5));
        store.complete(false);
        assertThat(connection.closedWith).isEqualTo(ReasonCode.UNSPECIFIED_ERROR);
        assertThat(connection.written).isEmpty();

        FakeSessionParts.Connection next = new FakeSessionParts.Connection(ProtocolVersion.MQTT_5);
        session.detach();
        session.attach(next);
        flow.resume();
        assertThat(record.writes).containsExactly("inflightSent 1", "inflightSent 1");
        assertThat(next.written).as("after the record is written again").isEmpty();
        store.complete(true);
        assertThat(next.written).hasSize(1);
        PublishPacket p = (PublishPacket) next.written.get(0);
        assertThat(p.packetId()).isEqualTo(1);
        assertThat(p.dup()).isTrue();
    }

    @Test
    void aStoredQos2PubrecStoresTheReleaseAndTheAckTogetherBeforeThePubrel() {
        start(BrokerConfig.builder().build(), true, true);
        flow.deliverStored(stored(2, 1, 5));
        store.immediate = false;
        flow.onPubRec(1, ReasonCode.SUCCESS);
        assertThat(record.writes).containsExactly("inflightSent 1", "inflightReleased 1", "ack 5");
        assertThat(connection.written).hasSize(1);
        store.complete(true);
        assertThat(connection.written.get(1)).isEqualTo(PubRelPacket.of(1));
        flow.onPubComp(1);
        assertThat(record.writes).endsWith("inflightDone 1");
    }

    @Test
    void resumeResendsTheWindowInOrderBeforeWhatIsQueued() {
        start();
        connection.receiveMaximum = 2;
        flow.deliver(delivery(2, 1));
        flow.deliver(delivery(1, 2));
        flow.deliver(delivery(1, 3));
        flow.onPubRec(1, ReasonCode.SUCCESS);

        FakeSessionParts.Connection next = new FakeSessionParts.Connection(ProtocolVersion.MQTT_5);
        next.receiveMaximum = 2;
        session.detach();
        session.attach(next);
        flow.resume();
        assertThat(next.written).hasSize(2);
        assertThat(next.written.get(0)).isEqualTo(PubRelPacket.of(1));
        PublishPacket again = (PublishPacket) next.written.get(1);
        assertThat(again.packetId()).isEqualTo(2);
        assertThat(again.dup()).isTrue();
        assertThat(flow.queuedCount()).as("the window is full").isEqualTo(1);
        flow.onPubAck(2);
        assertThat(((PublishPacket) next.written.get(2)).payload()[0]).isEqualTo((byte) 3);
    }

    @Test
    void storedDeliveriesBeyondWhatIsHeldArePagedInOnceTheQueueDrains() {
        start(BrokerConfig.builder().build(), true, false);
        flow.deliverStored(stored(1, 1, 1)); // offline: stays on disk
        assertThat(flow.queuedCount()).isZero();
        session.attach(connection);
        flow.drain();
        assertThat(record.reads).containsExactly(0L);
        record.answer(List.of(stored(1, 1, 1)));
        assertThat(sentTags()).containsExactly(1);
    }

    @Test
    void takeSharedMovesQueuedAndUnacknowledgedQos1SharedDeliveries() {
        start();
        connection.receiveMaximum = 1;
        flow.deliver(Deliveries.shared(1, 1));
        flow.deliver(Deliveries.shared(1, 2));
        flow.deliver(delivery(1, 3));
        assertThat(flow.takeShared()).extracting(Deliveries::tag).containsExactly(1, 2);
        assertThat(flow.inflightCount()).isZero();
        assertThat(flow.queuedDeliveries()).extracting(Deliveries::tag).containsExactly(3);
    }

    @Test
    void shedDropsQos0BeforeOtherMessages() {
        start(BrokerConfig.builder().build(), false, false);
        flow.deliver(delivery(1, 1));
        flow.deliver(new Delivery(message(0, 2), 0, false, List.of())); // not kept offline
        start(BrokerConfig.builder().queueQos0Messages(true).build(), false, false);
        flow.deliver(delivery(1, 1));
        flow.deliver(delivery(0, 2));
        flow.deliver(delivery(1, 3));
        assertThat(flow.shed(100)).isEqualTo(100);
        assertThat(flow.queuedDeliveries()).extracting(Deliveries::tag).containsExactly(1, 3);
        assertThat(metrics.messagesShed.sum()).isEqualTo(1);
    }

    @Test
    void aDiscardedSessionTakesNothing() {
        start();
        session.markDiscarded();
        flow.deliver(delivery(1, 1));
        assertThat(connection.written).isEmpty();
        assertThat(flow.queuedCount()).isZero();
        assertThat(flow.shed(1000)).isZero();
    }
}
