package io.starling.it.v5;

import static io.starling.it.spec.Wire.props;
import static org.assertj.core.api.Assertions.assertThat;

import io.starling.it.BrokerExtension;
import io.starling.it.Names;
import io.starling.it.spec.Conn;
import io.starling.it.spec.Conns;
import io.starling.it.spec.Wire;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Response Information built from the client id ({@code response-information: "resp/%c"}, 5.0 3.2.2.3.15): a client
 * uses it as the base of its response topics, so a client id that would change what it means gets none. Client
 * {@code a/b} would get {@code resp/a/b}, below client {@code a}'s {@code resp/a/}; {@code +} or {@code #} a
 * wildcard. The client id is put in once, as it is: client {@code %c} gets {@code resp/%c}.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ResponseInformationClientIdV5Test {

    @RegisterExtension
    static BrokerExtension broker = new BrokerExtension(b -> b.responseInformation("resp/%c"));

    @RegisterExtension
    final Conns conns = new Conns(broker);

    /** The CONNACK of a 5.0 CONNECT with Request Response Information 1, decoded. */
    private V5.Packet connack(String clientId) {
        Conn c = conns.open();
        c.send(Wire.connect5(clientId, Wire.CLEAN, 60, props(Wire.b(0x19, 0x01))));   // Request Response Info 1
        V5.Packet p = V5.decode(c.read());
        assertThat(p.type()).isEqualTo(2);
        return p;
    }

    @ParameterizedTest(name = "client id \"{0}\"")
    @ValueSource(strings = {"a/b", "+", "#", "x/+", "a/#", "/"})
    void aClientIdThatCannotStandInATopicLevelGetsNoResponseInformation(String clientId) {
        V5.Packet p = connack(clientId);
        assertThat(p.reasonCode()).as("the client is accepted").isZero();
        assertThat(p.props().has(V5.RESPONSE_INFORMATION)).isFalse();
    }

    @ParameterizedTest(name = "client id \"{0}\"")
    @ValueSource(strings = {"%c", "%u", "%c%c", "50%", "a$b", "$x"})
    void otherClientIdsArePutInOnceAsTheyAre(String clientId) {
        assertThat(connack(clientId).props().string(V5.RESPONSE_INFORMATION)).isEqualTo("resp/" + clientId);
    }

    // A Paho client with client id "a/b" (the one that would reach client "a"'s responses) gets none either.
    @Test
    void pahoWithASlashInItsClientIdGetsNone() throws Exception {
        MqttConnectionOptions o = PahoCapture.options();
        o.setRequestResponseInfo(true);
        String id = Names.clientId("ri") + "/b";
        try (PahoCapture p = PahoCapture.connect(broker, id, o)) {
            assertThat(p.connAckProperties().getResponseInfo()).isNull();
        }
    }
}
