package io.starling.cluster.route;

import io.starling.broker.message.Message;
import io.starling.codec.Properties;
import io.starling.codec.UserProperty;
import java.util.Arrays;
import java.util.List;

/**
 * The shared groups a message of a stored outbox is for, kept in the stored copy as a user property
 * ({@value #GROUPS}, the group keys separated by NUL, which no MQTT string holds) and taken out before it is sent.
 */
final class OutboxMessages {

    static final String GROUPS = "$cluster/groups";

    private OutboxMessages() {
    }

    static Message withGroups(Message m, List<String> groups) {
        Properties p = m.properties().toBuilder().addUserProperty(GROUPS, String.join("\u0000", groups)).build();
        return new Message(m.topic(), m.qos(), m.retain(), m.payload(), p, m.publisherId(), m.expiresAtMillis(),
                m.receivedNanos());
    }

    /** The groups of a stored copy, {@code null} if it has none. */
    static List<String> groups(Message m) {
        for (UserProperty u : m.properties().userProperties()) {
            if (u.name().equals(GROUPS)) {
                return Arrays.asList(u.value().split("\u0000"));
            }
        }
        return null;
    }

    /** The message without its groups property, as the peer is to see it. */
    static Message withoutGroups(Message m) {
        Properties p = m.properties();
        Properties.Builder b = Properties.builder().payloadFormatIndicator(p.payloadFormatIndicator())
                .messageExpiryInterval(p.messageExpiryInterval()).contentType(p.contentType())
                .responseTopic(p.responseTopic()).correlationData(p.correlationData());
        for (UserProperty u : p.userProperties()) {
            if (!u.name().equals(GROUPS)) {
                b.addUserProperty(u.name(), u.value());
            }
        }
        return new Message(m.topic(), m.qos(), m.retain(), m.payload(), b.build(), m.publisherId(), m.expiresAtMillis(),
                m.receivedNanos());
    }
}
