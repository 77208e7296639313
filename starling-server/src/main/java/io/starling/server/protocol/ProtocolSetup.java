package io.starling.server.protocol;

import io.netty.channel.Channel;
import io.starling.broker.Broker;
import io.starling.broker.auth.CertificateIdentity;
import io.starling.broker.auth.ListenerSecurity;
import java.util.function.Function;

/**
 * What the connections of one listener share: the broker, how the listener authenticates, the per-loop deadline
 * sweepers (and with them the clock), and how to read a channel's client certificate (the transport knows; the
 * protocol layer only asks).
 *
 * @param certificates the verified client certificate of a channel, {@code null} without one
 */
public record ProtocolSetup(Broker broker, ListenerSecurity security, ConnectionSweepers sweepers,
        Function<Channel, CertificateIdentity> certificates) {
}
