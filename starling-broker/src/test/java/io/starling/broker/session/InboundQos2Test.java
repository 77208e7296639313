package io.starling.broker.session;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Inbound QoS 2 packet ids awaiting PUBREL. */
class InboundQos2Test {

    private final InboundQos2 ids = new InboundQos2();

    @Test
    void aPublishWhosePacketIdAwaitsPubrelIsADuplicate() {
        assertThat(ids.begin(5)).isTrue();
        // 3.1.1 [MQTT-4.3.3-2], 5.0 [MQTT-4.3.3-10]: acknowledged again, not routed again
        assertThat(ids.begin(5)).isFalse();
        assertThat(ids.isAwaitingRelease(5)).isTrue();
        assertThat(ids.release(5)).isTrue();
        assertThat(ids.release(5)).as("unknown now").isFalse();
        assertThat(ids.begin(5)).as("a new message with the same id").isTrue();
    }

    @Test
    void undoPutsTheIdBackToWhatTheStoreHolds() {
        ids.begin(1);
        ids.set(1, false); // its message was not stored: a re-sent PUBLISH is routed again
        assertThat(ids.isAwaitingRelease(1)).isFalse();
        ids.set(2, true); // its release was not stored: it awaits PUBREL again
        assertThat(ids.isAwaitingRelease(2)).isTrue();
        assertThat(ids.size()).isEqualTo(1);
    }

    @Test
    void restoredIdsAwaitRelease() {
        ids.restore(List.of(3, 4));
        assertThat(ids.begin(3)).isFalse();
        ids.clear();
        assertThat(ids.size()).isZero();
    }

    @Test
    void noIdAwaitsReleaseBeforeTheFirst() {
        assertThat(ids.size()).isZero();
        assertThat(ids.isAwaitingRelease(1)).isFalse();
        assertThat(ids.release(1)).isFalse();
        ids.set(1, false);
        ids.restore(List.of());
        ids.clear();
        assertThat(ids.size()).isZero();
    }

    @Test
    void changesAreWrittenToTheRecordOfAStoredSession() {
        FakeSessionParts.Record record = new FakeSessionParts.Record();
        assertThat(ids.begin(5, record)).isTrue();
        assertThat(ids.begin(5, record)).as("a duplicate writes nothing").isFalse();
        assertThat(ids.release(6, record)).isFalse();
        assertThat(ids.release(5, record)).isTrue();
        assertThat(ids.begin(7, null)).as("not stored").isTrue();
        assertThat(record.writes).containsExactly("inboundQos2 5 true", "inboundQos2 5 false");
    }
}
