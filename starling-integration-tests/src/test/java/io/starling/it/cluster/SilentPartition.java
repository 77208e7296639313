package io.starling.it.cluster;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * A network namespace for one node, joined to the host by a veth pair that carries two small networks: the cluster
 * network ({@link #hostClusterAddress()} ↔ {@link #nodeClusterAddress()}) and the client network
 * ({@link #nodeClientAddress()}, reached from the host). {@link #isolate()} makes the cluster network silent without
 * closing a socket: each side gets a permanent neighbour entry with a MAC address nobody has, so every packet between
 * the two cluster addresses is dropped, while clients still reach the node. {@link #heal()} removes the entries. Needs
 * root and iproute2 ({@code ip}); the host's own interfaces and loopback are not touched.
 */
final class SilentPartition implements AutoCloseable {

    private final String ns;
    private final String hostIf;
    private final String nodeIf;
    private final String net;

    SilentPartition() throws IOException {
        int k = ThreadLocalRandom.current().nextInt(1, 250);
        long tag = ProcessHandle.current().pid() % 100_000;
        ns = "stl-" + tag + "-" + k;
        hostIf = "stlh" + tag % 10_000 + k;
        nodeIf = "stln" + tag % 10_000 + k;
        net = "10.213." + k + ".";
        ip("netns", "add", ns);
        try {
            ipIn("link", "set", "lo", "up");
            ip("link", "add", hostIf, "type", "veth", "peer", "name", nodeIf, "netns", ns);
            ip("addr", "add", net + "1/30", "dev", hostIf);
            ip("addr", "add", net + "5/30", "dev", hostIf);
            ip("link", "set", hostIf, "up");
            ipIn("addr", "add", net + "2/30", "dev", nodeIf);
            ipIn("addr", "add", net + "6/30", "dev", nodeIf);
            ipIn("link", "set", nodeIf, "up");
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
    }

    /** Whether this machine lets the test make namespaces (root and iproute2). */
    static boolean available() {
        try {
            Process p = new ProcessBuilder("ip", "netns", "list").redirectErrorStream(true).start();
            return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0 && "root".equals(System.getProperty("user.name"));
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** The command that runs a process in the namespace. */
    String[] exec() {
        return new String[] {"ip", "netns", "exec", ns};
    }

    /** The host's end of the cluster network (for the nodes outside the namespace). */
    String hostClusterAddress() {
        return net + "1";
    }

    /** The namespaced node's cluster address. */
    String nodeClusterAddress() {
        return net + "2";
    }

    /** The namespaced node's address for clients. */
    String nodeClientAddress() {
        return net + "6";
    }

    /** Drops every packet between the two cluster addresses, silently (no reset, no ICMP). */
    void isolate() throws IOException {
        ip("neigh", "replace", nodeClusterAddress(), "lladdr", "02:00:00:00:00:01", "dev", hostIf, "nud", "permanent");
        ipIn("neigh", "replace", hostClusterAddress(), "lladdr", "02:00:00:00:00:02", "dev", nodeIf, "nud", "permanent");
    }

    /** Lets the cluster network carry packets again. */
    void heal() throws IOException {
        ip("neigh", "del", nodeClusterAddress(), "dev", hostIf);
        ipIn("neigh", "del", hostClusterAddress(), "dev", nodeIf);
    }

    @Override
    public void close() throws IOException {
        // deleting the namespace deletes the veth pair with it
        run(List.of("ip", "netns", "del", ns), false);
    }

    private void ip(String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("ip"));
        cmd.addAll(List.of(args));
        run(cmd, true);
    }

    private void ipIn(String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", ns, "ip"));
        cmd.addAll(List.of(args));
        run(cmd, true);
    }

    private static void run(List<String> cmd, boolean check) throws IOException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        try {
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException(String.join(" ", cmd) + ": timed out");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (check && p.exitValue() != 0) {
            throw new IOException(String.join(" ", cmd) + " failed (" + p.exitValue() + "): " + out);
        }
    }
}
