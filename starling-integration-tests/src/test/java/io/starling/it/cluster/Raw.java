package io.starling.it.cluster;

import io.starling.it.Packets;
import io.starling.testkit.RawClient;
import java.time.Duration;

/** Raw CONNECTs to a node of the cluster. */
final class Raw {

    private Raw() {
    }

    /**
     * Sends a clean CONNECT ({@code level} 4 = 3.1.1, 5 = 5.0) and returns the CONNACK's return / reason code (byte 3 of
     * the packet in both versions), or -1 if the node closed without one.
     */
    static int connackCode(ClusterHarness.Node node, int level, String clientId) {
        try (RawClient c = RawClient.connect(node.mqttHost, node.mqttPort)) {
            c.send(Packets.connect(level, clientId, Packets.CLEAN, 30));
            byte[] p = c.readPacket(Duration.ofSeconds(10));
            if (p == null || p.length < 4 || (p[0] & 0xFF) != 0x20) {
                return -1;
            }
            return p[3] & 0xFF;
        }
    }
}
