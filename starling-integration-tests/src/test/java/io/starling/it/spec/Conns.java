package io.starling.it.spec;

import io.starling.it.BrokerExtension;
import io.starling.testkit.RawClient;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Opens raw connections to the class's broker and closes them after each test, with the set-up steps the spec tests
 * repeat (connect and check CONNACK, subscribe and check SUBACK). Register as an instance field:
 * {@code @RegisterExtension final Conns conns = new Conns(broker);}.
 */
public final class Conns implements AfterEachCallback {

    private final BrokerExtension broker;
    private final List<Conn> open = new ArrayList<>();

    public Conns(BrokerExtension broker) {
        this.broker = broker;
    }

    /** A new TCP connection that has sent nothing yet. */
    public Conn open() {
        Conn c = new Conn(RawClient.connect(broker.host(), broker.port()));
        synchronized (open) {
            open.add(c);
        }
        return c;
    }

    /** A 3.1.1 connection; CONNACK must be {@code 20 02 <sessionPresent> 00}. Keep alive 60 s. */
    public Conn connect311(String clientId, boolean cleanSession, int sessionPresent) {
        Conn c = open();
        c.send(Wire.connect311(clientId, cleanSession ? Wire.CLEAN : 0, 60));
        c.expect(
                0x20, 0x02,                                // CONNACK, remaining length 2
                sessionPresent,                            // connect acknowledge flags: session present
                0x00);                                     // return code 0: accepted
        return c;
    }

    /** A 3.1.1 clean-session connection. */
    public Conn connect311(String clientId) {
        return connect311(clientId, true, 0);
    }

    /** A 3.1.1 clean-session connection subscribed to {@code filter} at {@code qos} (packet id 1). */
    public Conn subscriber311(String clientId, String filter, int qos) {
        Conn c = connect311(clientId);
        subscribe311(c, 1, filter, qos, qos);
        return c;
    }

    /** SUBSCRIBE one filter on a 3.1.1 connection, expect SUBACK with {@code returnCode}. */
    public static void subscribe311(Conn c, int packetId, String filter, int qos, int returnCode) {
        c.send(Wire.subscribe311(packetId, filter, qos));
        c.expect(Wire.packet(0x90,                         // SUBACK
                Wire.u16(packetId),                        // packet identifier of the SUBSCRIBE
                Wire.b(returnCode)));                      // return code
    }

    /**
     * A 5.0 connection with the given CONNECT properties; the CONNACK must carry reason code 0x00 and the given
     * Session Present flag. Returns the connection; the CONNACK properties are not checked here.
     */
    public Conn connect5(String clientId, boolean cleanStart, int[] properties, int sessionPresent) {
        Conn c = open();
        c.send(Wire.connect5(clientId, cleanStart ? Wire.CLEAN : 0, 60, properties));
        c.expectConnack5(sessionPresent);
        return c;
    }

    /** A 5.0 Clean Start connection without properties. */
    public Conn connect5(String clientId) {
        return connect5(clientId, true, Wire.props(), 0);
    }

    /** SUBSCRIBE one filter on a 5.0 connection, expect SUBACK (no properties) with {@code reasonCode}. */
    public static void subscribe5(Conn c, int packetId, int[] properties, String filter, int options, int reasonCode) {
        c.send(Wire.subscribe5(packetId, properties, filter, options));
        c.expect(Wire.packet(0x90,                         // SUBACK
                Wire.u16(packetId),                        // packet identifier of the SUBSCRIBE
                Wire.b(0x00),                              // property length 0
                Wire.b(reasonCode)));                      // reason code
    }

    /** A 5.0 Clean Start connection subscribed to {@code filter} with {@code options} (packet id 1). */
    public Conn subscriber5(String clientId, String filter, int options) {
        Conn c = connect5(clientId);
        subscribe5(c, 1, Wire.props(), filter, options, options & 0x03);
        return c;
    }

    @Override
    public void afterEach(ExtensionContext context) {
        List<Conn> copy;
        synchronized (open) {
            copy = new ArrayList<>(open);
            open.clear();
        }
        for (Conn c : copy) {
            c.close();
        }
    }
}
