package io.starling.server.protocol;

import io.netty.channel.Channel;
import io.starling.broker.Broker;
import io.starling.broker.auth.CertificateIdentity;
import io.starling.broker.auth.ListenerSecurity;
import io.starling.broker.metrics.BrokerMetrics;
import java.util.function.Function;

/**
 * What the connections of one listener share: the broker, how the listener authenticates, the per-loop deadline
 * sweepers (and with them the clock), and how to read a channel's client certificate (the transport knows; the
 * protocol layer only asks), and the publish rates of its connections.
 *
 * @param certificates the verified client certificate of a channel, {@code null} without one
 * @param maxPublishRate PUBLISH packets per second per connection (the listener's, else the broker's); 0 = unlimited
 * @param maxPublishBytesRate bytes of PUBLISH packets per second per connection; 0 = unlimited
 */
public record ProtocolSetup(Broker broker, ListenerSecurity security, ConnectionSweepers sweepers,
        Function<Channel, CertificateIdentity> certificates, long maxPublishRate, long maxPublishBytesRate) {

    /** The setup of the listener of {@code security}, with its publish rates (its own, else the broker's). */
    public ProtocolSetup(Broker broker, ListenerSecurity security, ConnectionSweepers sweepers,
            Function<Channel, CertificateIdentity> certificates) {
        this(broker, security, sweepers, certificates, security.listener().effectiveMaxPublishRate(broker.config()),
                security.listener().effectiveMaxPublishBytesRate(broker.config()));
    }

    /** The listener's transport, as the metrics count connections by it. */
    public BrokerMetrics.Transport transport() {
        return BrokerMetrics.Transport.valueOf(security.listener().type().name());
    }
}
