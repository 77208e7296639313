package io.starling.server.bridge;

import io.starling.broker.config.BridgeConfig.Mapping;
import io.starling.broker.topic.Topics;
import java.util.List;

/**
 * The topic mappings of one bridge, with Mosquitto's prefix semantics: a message forwarded out has its local prefix
 * replaced by the remote prefix, one forwarded in the other way round. The first mapping of the direction whose filter
 * matches decides. Immutable.
 */
final class TopicMapper {

    private final Mapping[] out;
    private final Mapping[] in;

    TopicMapper(List<Mapping> mappings) {
        out = mappings.stream().filter(m -> m.direction().out()).toArray(Mapping[]::new);
        in = mappings.stream().filter(m -> m.direction().in()).toArray(Mapping[]::new);
    }

    /** The mappings forwarding local messages to the remote. */
    Mapping[] out() {
        return out.clone();
    }

    /** The mappings forwarding remote messages into the broker. */
    Mapping[] in() {
        return in.clone();
    }

    /** The remote topic of a local one, {@code null} when no outgoing mapping matches it. */
    String toRemote(String localTopic) {
        for (Mapping m : out) {
            if (Topics.matches(m.localFilter(), localTopic)) {
                if (m.localPrefix().equals(m.remotePrefix())) {
                    return localTopic; // the same prefix (or none) on both sides: no new string
                }
                return m.remotePrefix() + localTopic.substring(m.localPrefix().length());
            }
        }
        return null;
    }

    /** The local topic of a remote one, {@code null} when no incoming mapping matches it. */
    String toLocal(String remoteTopic) {
        for (Mapping m : in) {
            if (Topics.matches(m.remoteFilter(), remoteTopic)) {
                if (m.localPrefix().equals(m.remotePrefix())) {
                    return remoteTopic;
                }
                return m.localPrefix() + remoteTopic.substring(m.remotePrefix().length());
            }
        }
        return null;
    }
}
