package io.starling.broker.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The {@code cluster} section of the config file: this node's name and addresses, the static member list, the
 * minimum cluster size for accepting connections, failure detection, and how nodes prove membership to each other
 * (see docs/cluster.md and docs/configuration.md). Immutable; {@link BrokerConfig#cluster()} is {@code null} when the
 * file has no {@code cluster} section, and then nothing of the cluster is started.
 *
 * @param nodeName the node's name, unique in the cluster
 * @param bind address for membership and the node link
 * @param membershipPort port of the membership protocol (Hazelcast)
 * @param linkPort port of the node link (messages between nodes)
 * @param members the static member list, {@code host:port} of each node's membership port (this node included)
 * @param minSize fewest members this node must see to accept new connections
 * @param heartbeatTimeout a member silent this long is dropped
 * @param secretFile the shared secret of the cluster; {@code null} only with TLS
 * @param tlsCert node link TLS: this node's certificate chain (PEM); {@code null} without TLS
 * @param tlsKey node link TLS: this node's private key (PEM, PKCS#8)
 * @param tlsCa node link TLS: the cluster CA that signs every node's certificate
 */
public record ClusterConfig(String nodeName, String bind, int membershipPort, int linkPort, List<String> members,
        int minSize, Duration heartbeatTimeout, Path secretFile, Path tlsCert, Path tlsKey, Path tlsCa) {

    /** The default membership port. */
    public static final int DEFAULT_MEMBERSHIP_PORT = 5701;
    /** The default node link port. */
    public static final int DEFAULT_LINK_PORT = 7701;
    /** The default of {@code heartbeat-timeout-seconds}. */
    public static final Duration DEFAULT_HEARTBEAT_TIMEOUT = Duration.ofSeconds(5);

    public ClusterConfig {
        if (nodeName == null || nodeName.isBlank()) {
            throw new IllegalArgumentException("cluster: node-name must not be empty");
        }
        if (!nodeName.matches("[A-Za-z0-9._-]{1,64}")) {
            throw new IllegalArgumentException("cluster: node-name '" + nodeName
                    + "' must be 1 to 64 letters, digits, '.', '_' or '-'");
        }
        if (bind == null || bind.isBlank()) {
            throw new IllegalArgumentException("cluster: bind address is required");
        }
        checkPort("membership-port", membershipPort);
        checkPort("link-port", linkPort);
        members = members == null ? List.of() : List.copyOf(members);
        if (members.isEmpty()) {
            throw new IllegalArgumentException("cluster: members must list the membership address of every node");
        }
        for (String m : members) {
            int colon = m.lastIndexOf(':');
            if (colon <= 0 || colon == m.length() - 1) {
                throw new IllegalArgumentException("cluster: member '" + m + "' must be host:port");
            }
            try {
                checkPort("members", Integer.parseInt(m.substring(colon + 1)));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("cluster: member '" + m + "' must be host:port", e);
            }
        }
        if (minSize < 1 || minSize > members.size()) {
            throw new IllegalArgumentException("cluster: min-size must be 1.." + members.size()
                    + " (the number of members), not " + minSize);
        }
        if (heartbeatTimeout == null || heartbeatTimeout.toSeconds() < 1) {
            throw new IllegalArgumentException("cluster: heartbeat-timeout-seconds must be at least 1");
        }
        boolean tls = tlsCert != null || tlsKey != null || tlsCa != null;
        if (tls && (tlsCert == null || tlsKey == null || tlsCa == null)) {
            throw new IllegalArgumentException("cluster: tls needs cert, key and ca");
        }
        if (secretFile == null && !tls) {
            throw new IllegalArgumentException("cluster: secret-file is required (or tls with a cluster CA)");
        }
    }

    /** The default of {@code min-size}: a majority of {@code memberCount}. */
    public static int majority(int memberCount) {
        return memberCount / 2 + 1;
    }

    /** Whether the node link uses TLS with a cluster CA. */
    public boolean tls() {
        return tlsCert != null;
    }

    private static void checkPort(String key, int port) {
        if (port < 1 || port > 65_535) {
            throw new IllegalArgumentException("cluster: " + key + " must be 1..65535, not " + port);
        }
    }
}
