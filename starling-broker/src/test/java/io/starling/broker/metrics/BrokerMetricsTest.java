package io.starling.broker.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.starling.codec.ProtocolVersion;
import io.starling.codec.ReasonCode;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The counters kept by kind: by QoS, by ACL action, by refusal reason, by listener type and protocol version. */
class BrokerMetricsTest {

    private final BrokerMetrics m = new BrokerMetrics();

    @Test
    void messagesAreCountedByQosAndInTheTotal() {
        m.received(0, 10);
        m.received(2, 100);
        m.received(2, 1);
        m.sent(1, 7);
        assertThat(m.messagesReceived()).isEqualTo(3);
        assertThat(m.receivedBytesByQos(0)).isEqualTo(10);
        assertThat(m.receivedBytesByQos(2)).isEqualTo(101);
        assertThat(m.sentBytesByQos(1)).isEqualTo(7);
        assertThat(m.sentBytesByQos(0)).isZero();
        assertThat(m.receivedByQos(0)).isEqualTo(1);
        assertThat(m.receivedByQos(1)).isZero();
        assertThat(m.receivedByQos(2)).isEqualTo(2);
        assertThat(m.messagesDelivered()).isEqualTo(1);
        assertThat(m.sentByQos(1)).isEqualTo(1);
        assertThat(m.sentByQos(0)).isZero();
    }

    @Test
    void aclDenialsOfMessagesAreAlsoNotAuthorizedMessagesButSubscriptionsAreNot() {
        m.aclDenied(BrokerMetrics.AclAction.PUBLISH);
        m.aclDenied(BrokerMetrics.AclAction.SUBSCRIBE);
        m.aclDenied(BrokerMetrics.AclAction.SUBSCRIBE);
        m.aclDenied(BrokerMetrics.AclAction.DELIVER);
        assertThat(m.aclDenials(BrokerMetrics.AclAction.PUBLISH)).isEqualTo(1);
        assertThat(m.aclDenials(BrokerMetrics.AclAction.SUBSCRIBE)).isEqualTo(2);
        assertThat(m.aclDenials(BrokerMetrics.AclAction.DELIVER)).isEqualTo(1);
        assertThat(m.messagesNotAuthorized.sum()).isEqualTo(2);
        assertThat(BrokerMetrics.AclAction.SUBSCRIBE.tag()).isEqualTo("subscribe");
    }

    @Test
    void refusalsAreCountedByReason() {
        m.connectRefused(ReasonCode.BAD_USER_NAME_OR_PASSWORD);
        m.connectRefused(ReasonCode.BAD_USER_NAME_OR_PASSWORD);
        m.connectRefused(ReasonCode.BANNED);
        assertThat(m.connectsRefused(ReasonCode.BAD_USER_NAME_OR_PASSWORD)).isEqualTo(2);
        assertThat(m.connectsRefused(ReasonCode.BANNED)).isEqualTo(1);
        assertThat(m.connectsRefused(ReasonCode.NOT_AUTHORIZED)).isZero();
    }

    @Test
    void connectionsAreCountedByListenerAndVersionAndStayOpenUntilDisconnected() {
        m.connected(BrokerMetrics.Transport.TCP, ProtocolVersion.MQTT_5);
        m.connected(BrokerMetrics.Transport.TCP, ProtocolVersion.MQTT_5);
        m.connected(BrokerMetrics.Transport.WSS, ProtocolVersion.MQTT_3_1);
        m.disconnected(BrokerMetrics.Transport.TCP, ProtocolVersion.MQTT_5);
        assertThat(m.connects(BrokerMetrics.Transport.TCP, ProtocolVersion.MQTT_5)).isEqualTo(2);
        assertThat(m.connectedOpen(BrokerMetrics.Transport.TCP, ProtocolVersion.MQTT_5)).isEqualTo(1);
        assertThat(m.connects(BrokerMetrics.Transport.WSS, ProtocolVersion.MQTT_3_1)).isEqualTo(1);
        assertThat(m.connectedOpen(BrokerMetrics.Transport.WSS, ProtocolVersion.MQTT_3_1)).isEqualTo(1);
        // no two combinations share a counter
        long others = 0;
        for (BrokerMetrics.Transport t : BrokerMetrics.Transport.values()) {
            for (ProtocolVersion v : ProtocolVersion.values()) {
                others += m.connects(t, v);
            }
        }
        assertThat(others).isEqualTo(3);
    }

    @Test
    void latenciesGoWhereTheyAreSentAndBlockedAddressesAreReadFromTheirSource() {
        List<Long> recorded = new ArrayList<>();
        m.endToEnd().record(5); // nowhere yet
        m.endToEnd(recorded::add);
        m.endToEnd().record(7);
        assertThat(recorded).containsExactly(7L);
        assertThat(m.blockedAddresses()).isZero();
        m.blockedAddresses(() -> 4);
        assertThat(m.blockedAddresses()).isEqualTo(4);
    }
}
